/**
 * Runs `promtool check metrics` (Prometheus 2.42's parser plus its lint rules) on an exposition.
 */
import { spawnSync } from 'node:child_process';
import { requireBinary } from './binaries';

export const promtool = requireBinary('promtool', 'apt-get install prometheus');

export interface PromtoolResult {
  /** 0: valid and lint-clean; 1: invalid; 3: valid with lint problems. */
  readonly status: number | null;
  readonly output: string;
}

export function checkMetrics(exposition: string): PromtoolResult {
  if (!promtool) throw new Error('promtool is not installed');
  const result = spawnSync(promtool, ['check', 'metrics'], {
    input: exposition,
    encoding: 'utf8',
    timeout: 20000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * Expositions that tests of one file produce along the way, checked with promtool by a test of their own
 * (`itWithPromtool`), so a missing promtool shows as a skipped test with the SKIPPING message instead of an
 * `if (promtool)` hiding inside a passing one. Runs after the tests that add to it (jest keeps file order).
 */
export class PromtoolChecks {
  private readonly texts = new Map<string, string>();

  add(name: string, exposition: string): void {
    this.texts.set(name, exposition);
  }

  /** Every name was added (a test that failed before adding shows here too), and each text is lint-clean. */
  expectClean(names: readonly string[]): void {
    expect([...this.texts.keys()].sort()).toEqual([...names].sort());
    for (const [name, text] of this.texts)
      expect({ name, ...checkMetrics(text) }).toEqual({ name, status: 0, output: '' });
  }
}
