/**
 * src/cluster/node-cluster.ts, the one lazy load of `node:cluster`: importing the module does not load it (process
 * managers such as Passenger shim it with a warning when it is required), the first call does, and every call
 * gives the very module `require('node:cluster')` gives. Checked in a fresh Node process (this test process has
 * loaded it long ago) through Node's own list of loaded built-in modules, on the current source bundled by esbuild.
 */
import { spawnSync } from 'node:child_process';
import cluster from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { nodeCluster } from '../../src/cluster/node-cluster';

const dir = mkdtempSync(join(tmpdir(), 'obm-node-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nodeCluster', () => {
  it('loads node:cluster on the first call, not at import', () => {
    const module = join(dir, 'node-cluster.js');
    buildSync({
      entryPoints: [join(__dirname, '../../src/cluster/node-cluster.ts')],
      outfile: module,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'error',
    });
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const loaded = () => process.moduleLoadList.includes('NativeModule cluster');
         const before = loaded();
         const { nodeCluster } = require(process.argv[1]);
         const afterImport = loaded();
         const cluster = nodeCluster();
         console.log(JSON.stringify({
           before,
           afterImport,
           afterCall: loaded(),
           same: cluster === require('node:cluster') && nodeCluster() === cluster,
         }));`,
        module,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      before: false,
      afterImport: false,
      afterCall: true,
      same: true,
    });
  });

  it('gives the node:cluster module, the same object on every call', () => {
    expect(nodeCluster()).toBe(cluster);
    expect(nodeCluster()).toBe(nodeCluster());
    expect(typeof nodeCluster().isPrimary).toBe('boolean');
  });
});
