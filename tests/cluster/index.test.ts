/**
 * src/cluster/index.ts, cluster mode's public surface: at run time it exports only watchWorkerThread, the very
 * function of thread-watch.ts, and everything else it names is a type. So what it brings into a bundle or a process
 * is that one small file: the package exports the watch without loading cluster mode (init.ts loads the rest only
 * for `cluster`), which esbuild's list of the bundle's inputs shows.
 */
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import * as cluster from '../../src/cluster';
import * as threadWatch from '../../src/cluster/thread-watch';
import { exportOrigins } from '../support/entry-points';

const ROOT = join(__dirname, '..', '..');

describe('cluster entry point', () => {
  it('exports only watchWorkerThread at run time, the function of thread-watch.ts', () => {
    expect(exportOrigins(cluster, { threadWatch })).toEqual({ watchWorkerThread: 'threadWatch' });
  });

  it('brings nothing of cluster mode but the watch into a bundle', () => {
    const result = buildSync({
      entryPoints: ['src/cluster/index.ts'],
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(result.metafile.inputs).sort()).toEqual([
      'src/cluster/index.ts',
      'src/cluster/thread-watch.ts',
    ]);
  });
});
