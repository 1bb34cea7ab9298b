/**
 * The app of the fault tests: an HTTP server in the test process whose every request records business metrics,
 * as a checkout handler would, and a load driver for it. The tests then watch what an exporter fault does to
 * the app (latency, event-loop delay, lost measurements).
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { BusinessMetricsHandle } from '../../src';

/** What the app recorded: `requests` funnel steps and `cents` of revenue. */
export interface CheckoutTotals {
  requests: number;
  cents: number;
}

/** Every request records a funnel step and revenue; answers 200 `ok`. Listens on a free loopback port. */
export function startCheckoutApp(handle: BusinessMetricsHandle, totals: CheckoutTotals): Promise<Server> {
  const server = createServer((req, res) => {
    const cents = 100 + (totals.requests % 900);
    handle.metrics.recordFunnelStep('cart_view', { source: 'newsletter', deviceType: 'web' });
    handle.metrics.recordRevenue(cents, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu_west',
    });
    totals.requests++;
    totals.cents += cents;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * `requests` GET /checkout, `concurrency` at a time, over keep-alive connections. Resolves with the median
 * latency in ms; rejects on a status other than 200.
 */
export async function driveCheckout(port: number, requests: number, concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path: '/checkout', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          if (res.statusCode === 200) resolve();
          else reject(new Error(`status ${res.statusCode}`));
        });
      });
      req.on('error', reject);
      req.end();
    });
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < requests) await one();
      }),
    );
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  return latencies[Math.floor(latencies.length / 2)];
}
