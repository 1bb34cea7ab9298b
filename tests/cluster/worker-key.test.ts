/**
 * src/cluster/worker-key.ts directly: a configured user-hash key is used as is; otherwise the primary draws one
 * and hands it to the workers it forks (in the fork's env, never in its own process.env) and to worker threads
 * (environment data) until it stops sharing; a worker takes the key once and removes it from its environment.
 * Real node:cluster (its fork replaced by a recorder, so nothing is forked) and real worker_threads data.
 */
import cluster from 'node:cluster';
import { getEnvironmentData } from 'node:worker_threads';
import {
  clusterHashKey,
  keyFromPrimary,
  shareKeyWithWorkers,
  WORKER_KEY_ENV,
} from '../../src/cluster/worker-key';

const THREAD_KEY = 'otel-business-metrics/cluster-hash-key';
const realFork = cluster.fork;
let forkedWith: Array<NodeJS.ProcessEnv | undefined>;

beforeEach(() => {
  forkedWith = [];
  cluster.fork = ((env?: NodeJS.ProcessEnv) => {
    forkedWith.push(env);
    return undefined as never;
  }) as typeof cluster.fork;
});
afterEach(() => {
  cluster.fork = realFork;
  delete process.env[WORKER_KEY_ENV];
});

it('uses a configured key as is, sharing nothing', () => {
  const configured = clusterHashKey({ hashKey: 'app-key-0123456789abcdef' }, 'primary');
  expect(configured).toEqual({ activeUsers: { hashKey: 'app-key-0123456789abcdef' } });
  cluster.fork();
  expect(forkedWith).toEqual([undefined]);
});

it("primary: draws a 256-bit key and gives it to each fork's env and to threads, until it stops sharing", () => {
  const { activeUsers, stopSharing } = clusterHashKey({ precision: 14 }, 'primary');
  const key = activeUsers.hashKey as string;
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(activeUsers.precision).toBe(14);
  cluster.fork({ APP: '1' });
  cluster.fork();
  expect(forkedWith).toEqual([{ [WORKER_KEY_ENV]: key, APP: '1' }, { [WORKER_KEY_ENV]: key }]);
  expect(getEnvironmentData(THREAD_KEY)).toBe(key);
  // Never in the primary's own environment (every child process would inherit it).
  expect(process.env[WORKER_KEY_ENV]).toBeUndefined();

  stopSharing!();
  stopSharing!(); // idempotent
  cluster.fork({ APP: '2' });
  expect(forkedWith[2]).toEqual({ APP: '2' });
  expect(getEnvironmentData(THREAD_KEY)).toBeUndefined();
  // The next primary (a new init after shutdown) draws another key.
  const next = clusterHashKey({}, 'primary');
  expect(next.activeUsers.hashKey).toMatch(/^[0-9a-f]{64}$/);
  expect(next.activeUsers.hashKey).not.toBe(key);
  next.stopSharing!();
});

it('stopping leaves a fork wrapper installed after its own in place, passing calls through unchanged', () => {
  const stop = shareKeyWithWorkers('k'.repeat(64));
  const ours = cluster.fork;
  const theirs = ((env?: NodeJS.ProcessEnv) => ours.call(cluster, env)) as typeof cluster.fork;
  cluster.fork = theirs;
  stop();
  expect(cluster.fork).toBe(theirs);
  cluster.fork({ X: 'y' });
  expect(forkedWith).toEqual([{ X: 'y' }]);
});

it("worker: takes the primary's key once and removes it from its own environment", () => {
  process.env[WORKER_KEY_ENV] = 'f'.repeat(64);
  const { activeUsers } = clusterHashKey({}, 'source');
  expect(activeUsers.hashKey).toBe('f'.repeat(64));
  expect(process.env[WORKER_KEY_ENV]).toBeUndefined();
  // Read again later (another init in the same worker): the same key, from memory.
  expect(keyFromPrimary()).toBe('f'.repeat(64));
});
