/**
 * The child side of the benchmark protocol: every case runs in a fresh `node --expose-gc` process forked by
 * bench/run.mjs and answers its messages over IPC.
 *
 * Owns: the message loop (setup -> calibrate -> rounds -> check -> exit), timing of a round inside the child (so
 * IPC never counts), and turning any exception into a reported failure. Must not touch: what a case measures.
 *
 * A case is `async (params) => ({ round(iterations), check(), close() })`:
 * - `round(n)` runs n operations; it returns nothing (timed here, reported as ns per operation: wall time, or CPU
 *   time when the round message says `clock: 'cpu'`) or a number in
 *   the case's own unit (bytes per series, ms per scrape, ...), which is then reported as is;
 * - `check(operations, message)` returns `{ ok, detail }` after verifying the case's totals against what was exported.
 */
import { performance } from 'node:perf_hooks';

/**
 * Collect garbage until the heap settles. Yields to the event loop between collections: objects held only until
 * the end of the current job (WeakRef targets, finalizers) would otherwise count as live.
 */
export async function settleHeap() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  let previous = Infinity;
  for (let i = 0; i < 8; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    globalThis.gc();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(previous - used) < 4096) return used;
    previous = used;
  }
  return process.memoryUsage().heapUsed;
}

function reply(message) {
  process.send(message);
}

/** Serve one benchmark case over IPC until told to exit. */
export function serveCase(factory) {
  let instance;
  let operations = 0;
  // `clock: 'cpu'`: the round's CPU time (user + system of this process) instead of its wall time, for rows whose
  // floor is so noisy on a shared machine that time spent descheduled would swamp the difference measured.
  const timedRound = async (iterations, clock) => {
    const cpuStart = clock === 'cpu' ? process.cpuUsage() : undefined;
    const start = performance.now();
    const value = await instance.round(iterations, operations);
    const elapsedMs = performance.now() - start;
    const cpu = cpuStart && process.cpuUsage(cpuStart);
    operations += iterations;
    const ns = cpu ? ((cpu.user + cpu.system) * 1e3) / iterations : (elapsedMs * 1e6) / iterations;
    return { value: typeof value === 'number' ? value : ns, elapsedMs };
  };
  process.on('message', async (message) => {
    try {
      switch (message.type) {
        case 'setup':
          instance = await factory(message.params);
          reply({ type: 'ready' });
          break;
        case 'calibrate': {
          // Double the iteration count until one round takes the requested time (a first round also warms up).
          let iterations = message.minIterations ?? 1;
          for (;;) {
            const { elapsedMs } = await timedRound(iterations);
            if (elapsedMs >= message.targetMs || iterations >= (message.maxIterations ?? 1e9)) break;
            iterations *= elapsedMs < message.targetMs / 8 ? 4 : 2;
          }
          reply({ type: 'calibrated', iterations });
          break;
        }
        case 'round':
          reply({ type: 'round', ...(await timedRound(message.iterations, message.clock)) });
          break;
        case 'check':
          reply({ type: 'check', operations, ...(await instance.check(operations, message)) });
          break;
        case 'exit':
          await instance?.close?.();
          reply({ type: 'closed' });
          process.disconnect();
          break;
        default:
          // A case may answer messages of its own (e.g. the host app's `port`).
          if (typeof instance?.[message.type] !== 'function') {
            throw new Error(`unknown message ${JSON.stringify(message)}`);
          }
          reply({ type: message.type, ...(await instance[message.type](message)) });
      }
    } catch (error) {
      reply({ type: 'error', message: error instanceof Error ? error.stack : String(error) });
    }
  });
}
