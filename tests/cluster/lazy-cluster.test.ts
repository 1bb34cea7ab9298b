/**
 * node:cluster is loaded only when cluster mode is used (as prom-client does: process managers such as Passenger
 * shim it with a warning when it is required), checked on the built package in a fresh process through Node's own
 * list of loaded built-in modules.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const DIST = join(__dirname, '../../dist/index.js');

function loadedBuiltins(init: string): { afterRequire: boolean; afterInit: boolean } {
  const result = spawnSync(
    process.execPath,
    [
      '-e',
      `const loaded = () => process.moduleLoadList.includes('NativeModule cluster');
       const { initBusinessMetrics } = require(process.argv[1]);
       const afterRequire = loaded();
       const handle = initBusinessMetrics(${init});
       const afterInit = loaded();
       handle.shutdown({ timeoutMillis: 2000 }).then(() => console.log(JSON.stringify({ afterRequire, afterInit })));`,
      DIST,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (result.status !== 0) throw new Error(`child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { afterRequire: boolean; afterInit: boolean };
}

describe('node:cluster is loaded lazily', () => {
  it('not by requiring the package, nor by an init without cluster mode', () => {
    expect(
      loadedBuiltins(`{ exporters: ['prometheus'], prometheus: { preventServerStart: true }, env: {} }`),
    ).toEqual({ afterRequire: false, afterInit: false });
  });

  it('by an init with cluster mode, which needs it', () => {
    expect(loadedBuiltins(`{ exporters: ['none'], cluster: true, env: {} }`)).toEqual({
      afterRequire: false,
      afterInit: true,
    });
  });
});
