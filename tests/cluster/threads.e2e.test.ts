/**
 * worker_threads in cluster mode with real threads (tests/cluster/fixtures/threads-app.ts): the main thread's
 * exposition is the exact aggregate of its threads, and a thread that ends (cleanly, or terminated) keeps its
 * counts in the totals. With no Prometheus exporter and a `cluster.timeoutMillis` above the 5 s scrape default
 * (tests/cluster/fixtures/slow-thread-app.ts), `getMetrics()` still waits out a round held up by a blocked thread.
 */
import { PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition } from '../support/exposition';
import { cleanUpChildren, startChild } from '../safety/support/child';
import { bundle, cleanUpBundles } from './support/bundle';

const THREADS = 4;
const revenue = PROMETHEUS_FAMILIES.revenue;
const activeUsers = PROMETHEUS_FAMILIES.activeUsers;

afterAll(() => {
  cleanUpChildren();
  cleanUpBundles();
});

it('sums what every thread recorded, reports the app-set gauge once, and keeps the counts of threads that ended', async () => {
  const result = await startChild(bundle('threads-app'), [String(THREADS)], 60_000).exited;
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const steps = new Map(
    result.stdout
      .split('\n')
      .filter((line) => line.startsWith('STEP '))
      .map((line) => JSON.parse(line.slice(5)) as { step: string; text: string })
      .map((step) => [step.step, parseExposition(step.text).samples]),
  );
  const value = (step: string, name: string) =>
    steps
      .get(step)!
      .filter((s) => s.name === name)
      .reduce((sum, s) => sum + s.value, 0);
  // Thread i recorded i + 1 orders of 100 cents.
  const recorded = (THREADS * (THREADS + 1)) / 2;
  expect(value('recorded', revenue)).toBe(recorded * 100);
  expect(value('recorded', activeUsers)).toBe(42);
  expect(value('recorded', 'business_metrics_cluster_sources')).toBe(THREADS);
  // Thread 0 recorded one more order and shut down (final snapshot); thread 1 was terminated after its
  // last collection: nothing is lost.
  expect(value('after-exits', revenue)).toBe((recorded + 1) * 100);
  expect(value('after-exits', 'business_metrics_cluster_sources')).toBe(THREADS - 2);
});

it('without a Prometheus exporter, getMetrics() waits out a round longer than the 5 s scrape default', async () => {
  const result = await startChild(bundle('slow-thread-app'), ['5500'], 60_000).exited;
  expect(result.code).toBe(0);
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  const answer = JSON.parse(line!.slice(7)) as { text?: string; error?: string; elapsedMillis: number };
  // Before the fix: the primary's reader kept the 5 s default deadline, shorter than the 5.5 s round.
  expect(answer.error).toBeUndefined();
  expect(parseExposition(answer.text!).samples.filter((s) => s.name === revenue)).toEqual([
    expect.objectContaining({ value: 700 }),
  ]);
  // The round waited for the blocked thread (a lower bound only), then served its previous numbers.
  expect(answer.elapsedMillis).toBeGreaterThanOrEqual(5500 - 100);
}, 60_000);
