/**
 * Locks what the local series store promises beyond equal values: no measurement is lost or counted twice when
 * recording interleaves with many overlapping collections (Prometheus scrapes and delta pushes), shutdown
 * flushes what was recorded just before it, and series stay distinct and exact while open vocabularies grow and
 * the series table rehashes. Real readers and exporters of the SDK; no timing assertions.
 */
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { businessMetrics, initBusinessMetrics, type BusinessMetricsHandle } from '../../src';

const FUNNEL = 'business_funnel_step_total';
const ORDER_VALUE_COUNT = 'business_order_value_cents_count';

/** Sum of the samples of one series family in a text exposition. */
function total(text: string, sample: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample}{`) || line.startsWith(`${sample} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** Sum of a counter's points, or a histogram's counts, over every export an in-memory exporter received. */
function exportedTotal(exports: ResourceMetrics[], instrument: string): number {
  let sum = 0;
  for (const exported of exports) {
    for (const scope of exported.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== instrument) continue;
        for (const point of metric.dataPoints) {
          const value = point.value as number | { count: number };
          sum += typeof value === 'number' ? value : value.count;
        }
      }
    }
  }
  return sum;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('local series store under concurrent collections', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  test('no lost or doubled updates while scrapes and delta pushes overlap with recording', async () => {
    const delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    handle = initBusinessMetrics({
      exporters: ['prometheus', delta],
      prometheus: { preventServerStart: true },
      otlp: { exportIntervalMillis: 3_600_000 },
      env: {},
    });
    const metrics = handle.metrics;
    let funnelRecorded = 0;
    let ordersRecorded = 0;
    const scrapes: Promise<void>[] = [];
    const pushes: Promise<void>[] = [];
    const scrapeViolations: string[] = [];
    for (let batch = 0; batch < 120; batch++) {
      for (let i = 0; i < 40; i++) {
        metrics.recordFunnelStep(i % 2 ? 'cart_view' : 'payment_info', {
          source: `s${(batch * 7 + i) % 30}`,
          deviceType: i % 3 ? 'desktop' : 'mobile',
        });
        funnelRecorded++;
        if (i % 4 === 0) {
          metrics.recordRevenue(100 + i, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
          ordersRecorded++;
        }
      }
      const before = funnelRecorded;
      scrapes.push(
        metrics.getMetrics().then((text) => {
          const seen = total(text, FUNNEL);
          // A scrape sees everything recorded before it started, and nothing that was not recorded yet.
          if (seen < before || seen > funnelRecorded) {
            scrapeViolations.push(`scrape ${batch}: ${seen} not in [${before}, ${funnelRecorded}]`);
          }
        }),
      );
      if (batch % 5 === 0) pushes.push(handle.forceFlush());
      if (batch % 3 === 0) await Promise.resolve();
      if (batch % 11 === 0) await yieldToEventLoop();
    }
    await Promise.all([...scrapes, ...pushes]);
    await handle.forceFlush();

    expect(scrapeViolations).toEqual([]);
    expect(scrapes.length).toBe(120);
    const finalText = await metrics.getMetrics();
    expect(total(finalText, FUNNEL)).toBe(funnelRecorded);
    expect(total(finalText, ORDER_VALUE_COUNT)).toBe(ordersRecorded);
    // Delta exports partition the measurements: their sum is the total, with no interval counted twice.
    expect(delta.getMetrics().length).toBeGreaterThan(10);
    expect(exportedTotal(delta.getMetrics(), 'business_funnel_step')).toBe(funnelRecorded);
    expect(exportedTotal(delta.getMetrics(), 'business_order_value_cents')).toBe(ordersRecorded);
  });

  test.each([
    ['cumulative', AggregationTemporality.CUMULATIVE],
    ['delta', AggregationTemporality.DELTA],
  ])('shutdown exports what was recorded right before it (%s)', async (_name, temporality) => {
    const exporter = new InMemoryMetricExporter(temporality);
    handle = initBusinessMetrics({
      exporters: [exporter],
      otlp: { exportIntervalMillis: 3_600_000 },
      env: {},
    });
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    await handle.forceFlush();
    // Recorded after the last export and never collected before shutdown.
    for (let i = 0; i < 25; i++)
      businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    businessMetrics.recordSessionEnd(Date.now() - 42_000, { userTier: 'pro', entryPage: '/' });
    const closing = handle;
    handle = undefined;
    await closing.shutdown({ timeoutMillis: 5000 });

    const exports = exporter.getMetrics();
    const last = exports.at(-1)!;
    if (temporality === AggregationTemporality.CUMULATIVE) {
      expect(exportedTotal([last], 'business_funnel_step')).toBe(26);
      expect(exportedTotal([last], 'business_session_duration_seconds')).toBe(1);
    } else {
      expect(exportedTotal(exports, 'business_funnel_step')).toBe(26);
      expect(exportedTotal([last], 'business_funnel_step')).toBe(25);
      expect(exportedTotal([last], 'business_session_duration_seconds')).toBe(1);
    }
    // After shutdown the singleton is a no-op again: nothing more is recorded or exported.
    const exportsAtShutdown = exports.length;
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    expect(exporter.getMetrics().length).toBe(exportsAtShutdown);
  });

  test('series stay exact while open vocabularies grow and the series table rehashes', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
      limits: {
        maxSeriesPerMetric: 5000,
        labels: { source: { kind: 'capped', maxValues: 400 }, step: { kind: 'capped', maxValues: 400 } },
      },
    });
    const expected = new Map<string, number>();
    let state = 7;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const record = (step: string, source: string, deviceType: string) => {
      handle!.metrics.recordFunnelStep(step, { source, deviceType });
      const key = `${step}|${source}|${deviceType}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    };
    const seen: Array<[string, string, string]> = [];
    for (let n = 0; n < 300; n++) {
      // A new step and a new source arrive (new ids, the table grows past its load factor), then old series are
      // revisited.
      const combo: [string, string, string] = [`step_${n}`, `source_${n}`, n % 2 ? 'mobile' : 'desktop'];
      seen.push(combo);
      record(...combo);
      record(`step_${Math.floor(random() * (n + 1))}`, `source_${n}`, 'tablet');
      for (let k = 0; k < 3; k++) record(...seen[Math.floor(random() * seen.length)]);
    }
    const actual = new Map<string, number>();
    for (const line of (await handle.metrics.getMetrics()).split('\n')) {
      if (!line.startsWith(`${FUNNEL}{`)) continue;
      const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)![1];
      const key = `${label('step')}|${label('source')}|${label('device_type')}`;
      expect(actual.has(key)).toBe(false);
      actual.set(key, Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    expect(actual).toEqual(expected);
  });
});
