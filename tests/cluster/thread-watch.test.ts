/**
 * src/cluster/thread-watch.ts directly: `watchWorkerThread` reaches the primary registered as live in this thread,
 * is a no-op without one, and a stopping primary unregisters only itself (a newer live primary stays).
 */
import { Worker } from 'node:worker_threads';
import { setLivePrimary, watchWorkerThread, type ThreadWatcher } from '../../src/cluster/thread-watch';

class Watcher implements ThreadWatcher {
  readonly watched: Worker[] = [];
  watchThread(worker: Worker): void {
    this.watched.push(worker);
  }
}

let worker: Worker;
beforeAll(() => {
  worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
});
afterAll(async () => {
  setLivePrimary(undefined);
  await worker.terminate();
});

it('is a no-op without a live primary', () => {
  setLivePrimary(undefined);
  expect(() => watchWorkerThread(worker)).not.toThrow();
});

it('hands the thread to the live primary, and a stopping primary unregisters only itself', () => {
  const first = new Watcher();
  const second = new Watcher();
  setLivePrimary(first);
  watchWorkerThread(worker);
  expect(first.watched).toEqual([worker]);

  setLivePrimary(second);
  // The first one stops after the second started: the second stays live.
  setLivePrimary(undefined, first);
  watchWorkerThread(worker);
  expect([first.watched.length, second.watched.length]).toEqual([1, 1]);

  setLivePrimary(undefined, second);
  watchWorkerThread(worker);
  expect([first.watched.length, second.watched.length]).toEqual([1, 1]);
});
