/**
 * The demo shop with WORKERS=4 (examples/shop/start.mjs as `npm start` runs it): the same URLs, and every worker
 * answers /metrics with the fleet's exact numbers. Shoppers are real HTTP clients on keep-alive connections
 * (node:cluster balances connections, so a shopper stays with the worker that holds its session).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PROMETHEUS_FAMILIES } from '../../src';
import { PRODUCTS } from '../../examples/shop/server/products';
import { parseExposition, sumOf } from '../../examples/shop/server/exposition';
import { freePort } from '../support/prometheus-server';

const REPO = join(__dirname, '..', '..');
const WORKERS = 4;
const SHOPPERS = 24;

interface Answer {
  status: number;
  body: string;
  cookies: string[];
}

function call(port: number, agent: Agent, method: string, path: string, cookie: string, form?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: {
          cookie,
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, cookies: res.headers['set-cookie'] ?? [] }),
        );
      },
    );
    req.on('error', reject);
    req.end(form);
  });
}

describe('npm start with WORKERS=4', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('serves the same URLs from 4 workers, with the exact fleet-wide numbers on every /metrics answer', async () => {
    // `npm test` builds before running jest; running this file alone needs `npm run build` first.
    expect(existsSync(join(REPO, 'dist', 'index.js'))).toBe(true);
    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, [join(REPO, 'examples', 'shop', 'start.mjs')], {
      cwd: REPO,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(WORKERS), SIMULATE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 45_000;
    while (!output.includes(`running with ${WORKERS} workers`)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`shop did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const base = `http://127.0.0.1:${port}`;
    for (const path of ['/', '/dashboard', '/metrics', '/admin']) expect(output).toContain(`${base}${path}`);

    // Each shopper: a session, one product in the cart, one cart view (one funnel `cart_view` each).
    await Promise.all(
      Array.from({ length: SHOPPERS }, async (_, i) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const home = await call(port, agent, 'GET', '/', '');
          expect(home.status).toBe(200);
          const cookie = home.cookies.map((c) => c.split(';')[0]).join('; ');
          const product = PRODUCTS[i % PRODUCTS.length];
          const added = await call(port, agent, 'POST', '/cart/add', cookie, `productId=${product.id}`);
          expect(added.status).toBe(303);
          expect((await call(port, agent, 'GET', '/cart', cookie)).status).toBe(200);
        } finally {
          agent.destroy();
        }
      }),
    );

    // Fresh connections land on different workers: every answer is the fleet's.
    for (let i = 0; i < WORKERS * 2; i++) {
      const agent = new Agent({ keepAlive: false });
      const scrape = await call(port, agent, 'GET', '/metrics', '');
      expect(scrape.status).toBe(200);
      const samples = parseExposition(scrape.body);
      expect(sumOf(samples, PROMETHEUS_FAMILIES.funnelStep, { step: 'cart_view' })).toBe(SHOPPERS);
      expect(sumOf(samples, 'business_metrics_cluster_sources')).toBe(WORKERS);
    }
    expect((await fetch(`${base}/dashboard/data`)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopping the shop');
  });
});
