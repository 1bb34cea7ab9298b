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
import { waitUntil } from '../support/wait';

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
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });

  /** `npm start`'s shop on a free port with `env`; resolves once it printed that its workers run. */
  async function startShop(env: Record<string, string>) {
    // `npm test` builds before running jest; running this file alone needs `npm run build` first.
    expect(existsSync(join(REPO, 'dist', 'index.js'))).toBe(true);
    const port = await freePort();
    let output = '';
    const shop = spawn(process.execPath, [join(REPO, 'examples', 'shop', 'start.mjs')], {
      cwd: REPO,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = shop;
    shop.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shop.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => shop.once('exit', (code) => resolve(code)));
    await waitUntil(
      `the shop to run ${env.WORKERS} workers`,
      () => {
        if (shop.exitCode !== null) throw new Error(`the shop exited:\n${output}`);
        return output.includes(`running with ${env.WORKERS} workers`);
      },
      { timeoutMillis: 45_000, intervalMillis: 100, context: (missing) => `${missing}\n${output}` },
    );
    return { port, exited, output: () => output, stop: () => shop.kill('SIGTERM') };
  }

  it('serves the same URLs from 4 workers, with the exact fleet-wide numbers on every /metrics answer', async () => {
    const {
      port,
      exited,
      output: printed,
      stop,
    } = await startShop({ WORKERS: String(WORKERS), SIMULATE: '0' });
    const output = printed();
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

    stop();
    expect(await exited).toBe(0);
    expect(printed()).toContain('stopping the shop');
  });

  it("runs each worker's traffic simulator against the shop: simulated shoppers are answered, not refused by the Host check", async () => {
    const { port, exited, stop } = await startShop({
      WORKERS: '2',
      SIMULATE: '1',
      SIM_SESSIONS_PER_SECOND: '20',
      SIM_THINK_SCALE: '0.05',
    });
    let statuses: Record<string, number> = {};
    await waitUntil(
      'simulated shoppers to count as active users',
      async () => {
        const samples = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        statuses = {};
        for (const sample of samples.filter((s) => s.name === 'http_server_request_duration_seconds_count')) {
          const code = sample.labels.http_response_status_code;
          statuses[code] = (statuses[code] ?? 0) + sample.value;
        }
        return sumOf(samples, PROMETHEUS_FAMILIES.activeUsers, { window: 'daily' }) > 0;
      },
      { timeoutMillis: 20_000, intervalMillis: 200 },
    );
    expect(statuses['200']).toBeGreaterThan(0);
    expect(statuses['421']).toBeUndefined();
    stop();
    expect(await exited).toBe(0);
  });
});
