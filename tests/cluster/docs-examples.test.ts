/**
 * docs/several-processes.md: its node:cluster and worker_threads programs run here as written (the text between
 * the `docs example` markers, which the docs test finds verbatim in docs/), as real processes and threads, with
 * the package import pointed at src/ and the ports taken from the environment as the examples read them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';

const CLUSTER_EXAMPLE = `
  // --- docs example: cluster ---
  import cluster from 'node:cluster';
  import { createServer } from 'node:http';
  import { businessMetrics, initBusinessMetrics } from 'otel-business-metrics';

  // The same call in the primary and in every worker: workers record, the primary serves their sum.
  initBusinessMetrics({ exporters: ['prometheus'], cluster: true });

  if (cluster.isPrimary) {
    for (let i = 0; i < 4; i++) cluster.fork();
    cluster.on('exit', () => cluster.fork()); // a worker's counts outlive it
  } else {
    createServer((req, res) => {
      businessMetrics.recordFunnelStep('cart_view', { source: 'ads', deviceType: 'mobile' });
      res.end('ok');
    }).listen(Number(process.env.PORT ?? 3000));
  }
  // --- end ---
`;

const THREADS_EXAMPLE = `
  // --- docs example: threads ---
  import { Worker, isMainThread, parentPort } from 'node:worker_threads';
  import { businessMetrics, initBusinessMetrics, watchWorkerThread } from 'otel-business-metrics';

  initBusinessMetrics({ exporters: ['prometheus'], cluster: true });

  if (isMainThread) {
    const workers = Array.from({ length: 4 }, () => new Worker(__filename));
    workers.forEach(watchWorkerThread); // counts of a terminated thread stay in the totals, uncounted as late
    workers.forEach((worker, i) => worker.postMessage({ cents: 1000 + i }));
  } else {
    parentPort!.on('message', ({ cents }: { cents: number }) =>
      businessMetrics.recordRevenue(cents, { productCategory: 'books', paymentMethod: 'card', region: 'eu' }),
    );
  }
  // --- end ---
`;

const workDir = mkdtempSync(join(tmpdir(), 'obm-docs-cluster-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});

/** The example as a program: dedented, importing the package from src/, bundled to plain Node. */
function program(name: string, example: string): string {
  const body = example.split('\n').slice(2, -2);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  const source = body
    .map((line) => line.slice(indent))
    .join('\n')
    .replace("from 'otel-business-metrics'", `from '${join(__dirname, '..', '..', 'src')}'`);
  const entry = join(workDir, `${name}.ts`);
  const out = join(workDir, `${name}.js`);
  writeFileSync(entry, source);
  buildSync({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'error',
  });
  return out;
}

async function scrapeUntil(port: number, done: (text: string) => boolean): Promise<string> {
  let last = '';
  await waitUntil(
    'the expected exposition',
    async () => {
      try {
        last = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch {
        return 'not listening yet';
      }
      return done(last) || `last:\n${last.slice(0, 2000)}`;
    },
    { timeoutMillis: 30_000, intervalMillis: 100 },
  );
  return last;
}

function value(text: string, name: string): number {
  return parseExposition(text)
    .samples.filter((s) => s.name === name)
    .reduce((sum, s) => sum + s.value, 0);
}

function run(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  return child;
}

describe('docs/several-processes.md examples, run as written', () => {
  it('node:cluster: 4 workers behind one port, their sum on the primary', async () => {
    const [appPort, metricsPort] = [await freePort(), await freePort()];
    const child = run(program('cluster', CLUSTER_EXAMPLE), {
      PORT: String(appPort),
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
    });
    await scrapeUntil(metricsPort, (text) => value(text, 'business_metrics_cluster_sources') === 4);
    const requests = 40;
    for (let i = 0; i < requests; i++) {
      // A fresh connection each time: node:cluster hands connections to the workers in turn.
      const res = await fetch(`http://127.0.0.1:${appPort}/`, { headers: { connection: 'close' } });
      expect(await res.text()).toBe('ok');
    }
    const text = await scrapeUntil(metricsPort, () => true);
    expect(value(text, PROMETHEUS_FAMILIES.funnelStep)).toBe(requests);
    child.kill('SIGKILL');
  });

  it('worker_threads: 4 threads, their sum on the main thread', async () => {
    const metricsPort = await freePort();
    const child = run(program('threads', THREADS_EXAMPLE), {
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
    });
    const text = await scrapeUntil(metricsPort, (t) => value(t, PROMETHEUS_FAMILIES.revenue) === 4006);
    expect(value(text, PROMETHEUS_FAMILIES.orderValue + '_count')).toBe(4);
    child.kill('SIGKILL');
  });
});
