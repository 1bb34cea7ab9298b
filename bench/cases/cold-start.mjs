/**
 * Cold start: one whole process per round (spawned by this case process, so node's own start-up is in every
 * variant alike): load the library, set it up, record one funnel step and serve it to one scrape (or push it once),
 * exit. A round returns that process's wall time in ms, or (params.measure 'rss') its peak resident set in MiB.
 * What each variant does: bench/cases/cold-start-process.mjs.
 *
 * Owns: spawning the processes, the OTLP receiver `ours-otlp` pushes to (in this process, so it is not counted),
 * and the self-check that every process served or sent its step. Must not touch: rounds, statistics.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { DIST } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const PROCESS = fileURLToPath(new URL('./cold-start-process.mjs', import.meta.url));

/** A node process with `args`: its exit status and standard output. */
function runProcess(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

serveCase(async ({ variant, measure }) => {
  let pushes = 0;
  // Counts the pushes that carry the funnel step (protobuf keeps strings as UTF-8, so its name shows in the body).
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (Buffer.concat(chunks).includes('business_funnel_step')) pushes++;
      res.end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${receiver.address().port}/v1/metrics`;
  let starts = 0;
  let bad = 0;
  const rss = [];
  return {
    async round(n) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const began = process.hrtime.bigint();
        // Not spawnSync: this process's event loop must stay free to answer ours-otlp's push.
        const run = await runProcess([PROCESS, variant, DIST, url]);
        const ms = Number(process.hrtime.bigint() - began) / 1e6;
        starts++;
        const result = run.status === 0 ? JSON.parse(run.stdout.trim().split('\n').pop()) : undefined;
        if (variant !== 'ours-otlp' && !/ 1$/.test(result?.sample ?? '')) bad++;
        if (variant === 'ours-otlp' && result === undefined) bad++;
        const mib = (result?.maxRssKb ?? 0) / 1024;
        rss.push(mib);
        total += measure === 'rss' ? mib : ms;
      }
      return total / n;
    },
    async check() {
      const sorted = [...rss].sort((a, b) => a - b);
      const peak = sorted[sorted.length >> 1] ?? 0;
      const pushed = variant === 'ours-otlp' ? `, ${pushes} pushes with the step received` : '';
      const ok = bad === 0 && (variant !== 'ours-otlp' || pushes >= starts);
      return {
        ok,
        detail: ok
          ? `${starts} starts, each served its step${pushed}; peak RSS ${peak.toFixed(1)} MiB (median)`
          : `${bad} of ${starts} starts did not serve their step${pushed}`,
      };
    },
    close: () => new Promise((resolve) => receiver.close(resolve)),
  };
});
