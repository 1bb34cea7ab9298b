/**
 * Load generator for the host-app row, in its own process: `node host-app-load.mjs PORT REQUESTS CONCURRENCY`.
 * Keep-alive connections, a bounded number of requests (a fifth more first, at least 2000 unless fewer are asked for, untimed, as warm-up), and a
 * Prometheus-like scrape of /metrics every 500 ms meanwhile. Prints one JSON line: { ok, failed,
 * requestsPerSecond }.
 *
 * Owns: request pacing and timing. Must not touch: the server.
 */
import { Agent, request } from 'node:http';

const [port, total, concurrency] = process.argv.slice(2).map(Number);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 1 });

function get(path) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function drive(count) {
  let issued = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (issued < count) {
      const n = issued++;
      const status = await get(n % 50 === 0 ? '/api/checkout?utm_source=newsletter' : '/api/checkout');
      if (status === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, failed };
}

// Warm-up: enough requests for the JIT to settle (and a first scrape, which compiles the serializer).
await get('/metrics');
const warmup = await drive(Math.max(Math.ceil(total / 5), Math.min(2000, total)));
await get('/__bench/mark');
const scraper = setInterval(() => void get('/metrics'), 500);
const start = performance.now();
const measured = await drive(total);
const seconds = (performance.now() - start) / 1000;
clearInterval(scraper);
await get('/__bench/mark');
agent.destroy();
console.log(
  JSON.stringify({
    ok: measured.ok,
    failed: measured.failed + warmup.failed,
    warmupOk: warmup.ok,
    requestsPerSecond: measured.ok / seconds,
  }),
);
