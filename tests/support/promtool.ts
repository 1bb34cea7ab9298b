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
