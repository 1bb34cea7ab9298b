/**
 * src/cluster/role.ts directly: the main thread of a process that is no node:cluster worker is the primary; a worker
 * thread is a source on the thread transport (run in a real Worker, from the built dist/); a node:cluster worker
 * is a source on the process transport (real forked workers: tests/cluster/cluster.e2e.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { clusterRoleHere } from '../../src/cluster/role';

const BUILT = join(__dirname, '../../dist/cluster/role.js');

it('is the primary on the main thread of a process no cluster forked', () => {
  expect(clusterRoleHere()).toEqual({ kind: 'primary' });
});

it('is a source on the thread transport inside a worker thread', async () => {
  if (!existsSync(BUILT)) throw new Error('dist/ is missing: run `npm run build` first');
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage(require(${JSON.stringify(BUILT)}).clusterRoleHere());`,
    { eval: true },
  );
  const role = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  expect(role).toEqual({ kind: 'source', transport: 'thread' });
});
