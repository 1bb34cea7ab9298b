/**
 * What a piece of code leaves on the heap: the growth of the used heap between two full garbage collections, in
 * bytes. For "keeps nothing of the caller's huge argument" checks, where what is kept is counted in megabytes
 * against a bound in kilobytes, so the noise of a collection (a few hundred kB) cannot decide the outcome.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** A full garbage collection; `--expose-gc` is switched on for a fresh context the first time. */
function fullGc(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
}

/**
 * Heap bytes still used after `run` (whose result is kept alive until measured, so what it references counts),
 * compared with before it.
 */
export function retainedBytes(run: () => unknown): number {
  fullGc();
  const before = getHeapStatistics().used_heap_size;
  const kept = run();
  fullGc();
  const after = getHeapStatistics().used_heap_size;
  // Read after the measurement: `kept` must stay reachable until then.
  if (kept === retainedBytes) throw new Error('unreachable');
  return after - before;
}
