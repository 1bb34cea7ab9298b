/**
 * worker_threads inside node:cluster workers, with real processes and threads
 * (tests/cluster/fixtures/cluster-threads-app.ts): each worker relays its threads, so the primary's exposition is
 * the exact sum of the workers' and their threads' numbers, users tracked in threads of different workers are
 * hashed with the cluster's one key (one user counts once), a thread's getMetrics() is the cluster's aggregate,
 * and a thread that ends (cleanly, or terminated) keeps its counts in the totals while its up-down levels leave.
 * A thread's exemplar (a funnel step recorded inside a sampled span) reaches the primary through its worker's relay.
 */
import { PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition } from '../support/exposition';
import { cleanUpChildren, startChild } from '../safety/support/child';
import { bundle, cleanUpBundles } from './support/bundle';

const WORKERS = 2;
const THREADS = 2;
const revenue = PROMETHEUS_FAMILIES.revenue;
const activeUsers = PROMETHEUS_FAMILIES.activeUsers;
const funnel = PROMETHEUS_FAMILIES.funnelStep;

afterAll(() => {
  cleanUpChildren();
  cleanUpBundles();
});

it('sums every worker and every thread of every worker, and keeps the counts of threads that ended', async () => {
  const result = await startChild(bundle('cluster-threads-app'), [String(WORKERS), String(THREADS)], 50_000)
    .exited;
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const texts = new Map(
    result.stdout
      .split('\n')
      .filter((line) => line.startsWith('STEP '))
      .map((line) => JSON.parse(line.slice(5)) as { step: string; text: string })
      .map((step) => [step.step, step.text]),
  );
  const steps = new Map(
    [...texts]
      .filter(([step]) => step !== 'recorded-openmetrics')
      .map(([step, text]) => [step, parseExposition(text).samples]),
  );
  const value = (step: string, name: string, labels: Record<string, string> = {}) =>
    (steps.get(step) ?? [])
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  // Thread t of worker w recorded w * THREADS + t + 1 orders of 100 cents; each worker one of its own.
  const threadOrders = (WORKERS * THREADS * (WORKERS * THREADS + 1)) / 2;
  const recorded = (threadOrders + WORKERS) * 100;
  expect(value('recorded', revenue)).toBe(recorded);
  // The primary collected each worker's `spelled` ({code: 200}) before its threads ({code: '200'}) started: one
  // series, every add counted once (the worker's slot at the primary keeps its labels through the relay).
  expect(value('before-threads', 'spelled_total', { code: '200' })).toBe(WORKERS);
  expect(value('recorded', 'spelled_total', { code: '200' })).toBe(WORKERS + WORKERS * THREADS);
  // Every source of the cluster: the workers (the primary's) and their threads (each worker's).
  expect(value('recorded', 'business_metrics_cluster_sources')).toBe(WORKERS + WORKERS * THREADS);
  expect(value('recorded', 'jobs_inflight')).toBe(WORKERS * THREADS);
  // Every thread tracked the same user: hashed with the cluster's one key, it counts once.
  expect(value('recorded', activeUsers, { window: 'daily', user_tier: 'pro' })).toBe(1);
  // Each thread's span, on the funnel step it recorded in it, relayed by its worker to the primary.
  const openMetrics = texts.get('recorded-openmetrics') ?? '';
  for (let w = 0; w < WORKERS; w++) {
    for (let t = 0; t < THREADS; t++) {
      const line = openMetrics.split('\n').find((l) => l.startsWith(`${funnel}{step="thread-${w}-${t}"`));
      expect({ w, t, line }).toEqual({
        w,
        t,
        line: expect.stringContaining(
          ` 1 # {trace_id="${`${w}${t}`.padStart(32, 'a')}",span_id="00f067aa0ba902b7"} 1 `,
        ),
      });
    }
  }
  // A thread's getMetrics() is the cluster's aggregate, asked through its worker.
  expect(value('from-thread', revenue)).toBe(recorded);
  // In worker 1, thread 0 recorded one more order and shut down (final snapshot); thread 1 was terminated after
  // its last collection: nothing is lost.
  expect(value('after-exits', revenue)).toBe(recorded + 100);
  expect(value('after-exits', 'business_metrics_cluster_sources')).toBe(WORKERS + WORKERS * THREADS - 2);
  // Their jobs in flight went with them (worker 1 no longer sends the level its threads held).
  expect(value('after-exits', 'jobs_inflight')).toBe(WORKERS * THREADS - 2);
  // The terminated thread sent no final snapshot: counted by its worker, in the primary's tally.
  const failures = 'business_metrics_cluster_collection_failures_total';
  expect(value('after-exits', failures, { reason: 'exited' })).toBe(1);
});
