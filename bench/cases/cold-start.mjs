/**
 * Cold start: one whole process per round (spawned by this case process, so node's own start-up is in every
 * variant alike): load the library, set it up, record one funnel step and serve it to one scrape (or push it once),
 * exit. A round returns that process's wall time in ms, its CPU time (params.measure 'cpu': user + system, the
 * figure that load from other processes moves least) or its peak resident set in MiB ('rss'). What each variant
 * does: bench/cases/cold-start-process.mjs.
 *
 * Owns: spawning the processes, the scrape each pull variant serves and the OTLP receiver `ours-otlp` pushes to
 * (both in this process, as Prometheus and a Collector are outside the app, so they are not counted), and the
 * self-check that every process served or sent its step. Must not touch: rounds, statistics.
 */
import { spawn } from 'node:child_process';
import { createServer, get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { DIST } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const PROCESS = fileURLToPath(new URL('./cold-start-process.mjs', import.meta.url));

/** The body at `url`, over node:http. */
function scrape(url) {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/**
 * A node process with `args`: its exit status, its last line of output (the result) and the sample of the funnel
 * step a pull variant served. When the process announces `{"url": ...}`, this scrapes it, then tells it so.
 */
function runProcess(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    let sample = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const announced = /^\{"url":"([^"]+)"\}$/m.exec(stdout);
      if (announced === null || sample !== null) return;
      sample = '';
      scrape(announced[1]).then(
        (text) => {
          sample = text.split('\n').find((line) => line.startsWith('business_funnel_step_total')) ?? '';
          child.stdin.end('scraped\n');
        },
        (error) => {
          child.kill();
          reject(error);
        },
      );
    });
    child.on('error', reject);
    child.on('close', (status) => {
      if (sample === null) child.stdin.destroy();
      resolve({ status, result: stdout.trim().split('\n').pop(), sample });
    });
    // A variant that announces nothing (ours-otlp) must not wait for stdin.
    if (args[1] === 'ours-otlp') child.stdin.end();
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
        const result = run.status === 0 ? JSON.parse(run.result) : undefined;
        if (variant !== 'ours-otlp' && !/ 1$/.test(run.sample ?? '')) bad++;
        if (result === undefined) bad++;
        const mib = (result?.maxRssKb ?? 0) / 1024;
        rss.push(mib);
        total += measure === 'rss' ? mib : measure === 'cpu' ? (result?.cpuMs ?? 0) : ms;
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
