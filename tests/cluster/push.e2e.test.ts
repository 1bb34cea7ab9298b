/**
 * Cluster mode with a push exporter, with real processes: a node:cluster primary and two workers
 * (tests/cluster/fixtures/push-app.ts) pushing over OTLP/HTTP to a real receiver on loopback, with the fixed
 * `service.instance.id` the docs recommend, inherited by the workers. The primary pushes the exact aggregate, the
 * same numbers its `/metrics` serves; the workers push nothing (their numbers reach the receiver through the
 * primary). Before, every worker pushed its own numbers under the same id, which a backend reads as resets.
 */
import { bundle, cleanUpBundles } from './support/bundle';
import { cleanUpChildren, startChild } from '../safety/support/child';
import {
  attributesOf,
  startOtlpReceiver,
  type OtlpNumberPoint,
  type OtlpReceiver,
} from '../support/otlp-receiver';

let fixture: string;
let receiver: OtlpReceiver | undefined;

beforeAll(() => {
  fixture = bundle('push-app');
});
afterEach(async () => {
  cleanUpChildren();
  await receiver?.close();
  receiver = undefined;
});
afterAll(() => cleanUpBundles());

interface Push {
  readonly resource: Record<string, string>;
  /** The revenue points of this push, with their temporality (1 delta, 2 cumulative). */
  readonly revenue: Array<{ value: number; attributes: Record<string, string>; temporality: number }>;
  /** The daily `business_active_users` of this push, if it has one. */
  readonly dailyUsers?: number;
}

/** Runs the app with workers recording `amounts`; every push the receiver got, in arrival order. */
async function run(amounts: number[], env: Record<string, string> = {}): Promise<Push[]> {
  receiver = await startOtlpReceiver();
  const child = startChild(fixture, [amounts.join(',')], 30_000, {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    // No periodic export during the test: the pushes are the flushes and the final ones.
    OTEL_METRIC_EXPORT_INTERVAL: '600000',
    OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-1',
    ...env,
  });
  const result = await child.exited;
  expect({ code: result.code, stdout: result.stdout }).toEqual({
    code: 0,
    stdout: expect.stringContaining('DONE') as string,
  });
  expect(receiver.rejected).toEqual([]);
  return receiver.requests.flatMap((request) =>
    request.body.resourceMetrics.map((resourceMetrics) => {
      const revenue: Push['revenue'] = [];
      let dailyUsers: number | undefined;
      for (const scopeMetrics of resourceMetrics.scopeMetrics) {
        for (const metric of scopeMetrics.metrics) {
          if (metric.name === 'business_active_users') {
            for (const point of metric.gauge!.dataPoints as OtlpNumberPoint[]) {
              if (attributesOf(point.attributes).window === 'daily')
                dailyUsers = Number(point.asInt ?? point.asDouble);
            }
          }
          if (metric.name !== 'business_revenue_cents') continue;
          for (const point of metric.sum!.dataPoints as OtlpNumberPoint[]) {
            revenue.push({
              value: Number(point.asInt ?? point.asDouble),
              attributes: attributesOf(point.attributes),
              temporality: metric.sum!.aggregationTemporality,
            });
          }
        }
      }
      return { resource: attributesOf(resourceMetrics.resource.attributes), revenue, dailyUsers };
    }),
  );
}

const books = { product_category: 'books', payment_method: 'card', region: 'eu', currency: 'USD' };

describe('cluster mode with an OTLP push exporter', () => {
  it('the primary pushes one series with the exact sum; the workers push nothing', async () => {
    const pushes = await run([111, 222]);
    // The primary's flush and its final push at shutdown, nothing else.
    expect(pushes.map((push) => push.resource['test.role'])).toEqual(['primary', 'primary']);
    for (const push of pushes) {
      expect(push.resource['service.instance.id']).toBe('pod-1');
      expect(push.revenue).toEqual([{ value: 333, attributes: books, temporality: 2 }]);
      // The workers' users, in the flush and in the final push after they exited (their last sketches kept).
      expect(push.dailyUsers).toBe(2);
    }
  }, 30_000);

  it("pushes the workers' users and revenue in its final push while they still run", async () => {
    const pushes = await run([111, 222], { PRIMARY_FIRST: '1' });
    expect(pushes.map((push) => [push.resource['test.role'], push.revenue, push.dailyUsers])).toEqual([
      ['primary', [{ value: 333, attributes: books, temporality: 2 }], 2],
      ['primary', [{ value: 333, attributes: books, temporality: 2 }], 2],
    ]);
  }, 30_000);

  it('with delta temporality, the primary pushes what the fleet recorded since its previous push', async () => {
    const pushes = await run([111, 222], { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' });
    expect(pushes.map((push) => push.resource['test.role'])).toEqual(['primary', 'primary']);
    // Nothing was recorded after the flush: the final push has no revenue point.
    expect(pushes.map((push) => push.revenue)).toEqual([
      [{ value: 333, attributes: books, temporality: 1 }],
      [],
    ]);
  }, 30_000);
});
