/**
 * The OTLP push path: the real OTLP/HTTP exporter sends to a real receiver on 127.0.0.1, which decodes the JSON
 * (gzip too). Names, units, temporality, monotonicity, buckets, values and resource attributes are checked; and
 * Prometheus + OTLP together must report identical values.
 */
import { BUSINESS_METRICS, initBusinessMetrics, SCOPE_NAME, type BusinessMetricsHandle } from '../../src';
import { parseExposition } from '../support/exposition';
import {
  attributesOf,
  startOtlpReceiver,
  type OtlpMetric,
  type OtlpReceiver,
  type ReceivedRequest,
} from '../support/otlp-receiver';
import {
  CONVERSION_SECONDS,
  FUNNEL,
  REVENUE,
  cumulativeBuckets,
  expectedRevenue,
  runWorkload,
} from '../support/workload';

const CUMULATIVE = 2;
const DELTA = 1;

function lastRequestMetrics(requests: ReceivedRequest[]): Map<string, OtlpMetric> {
  const last = requests[requests.length - 1].body;
  const result = new Map<string, OtlpMetric>();
  for (const rm of last.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      expect(sm.scope.name).toBe(SCOPE_NAME);
      for (const metric of sm.metrics) {
        expect(result.has(metric.name)).toBe(false);
        result.set(metric.name, metric);
      }
    }
  }
  return result;
}

function sumPoint(metric: OtlpMetric | undefined, labels: Record<string, string>): number | undefined {
  const point = metric?.sum?.dataPoints.find((p) => {
    const attributes = attributesOf(p.attributes);
    return Object.entries(labels).every(([k, v]) => attributes[k] === v);
  });
  return point === undefined ? undefined : Number(point.asDouble ?? point.asInt);
}

describe('OTLP/HTTP exporter', () => {
  let receiver: OtlpReceiver;
  let handle: BusinessMetricsHandle | undefined;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
    await receiver.close();
  });

  it('pushes cumulative sums and histograms with catalog names, units and buckets', async () => {
    handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { protocol: 'http/json', url: receiver.url, exportIntervalMillis: 60_000 },
      serviceName: 'checkout',
      resourceAttributes: { 'deployment.environment.name': 'test' },
      env: {},
    });
    runWorkload(handle.metrics);
    await handle.forceFlush();
    expect(receiver.requests).toHaveLength(1);
    const first = lastRequestMetrics(receiver.requests);

    const resource = attributesOf(receiver.requests[0].body.resourceMetrics[0].resource.attributes);
    expect(resource['service.name']).toBe('checkout');
    expect(resource['deployment.environment.name']).toBe('test');

    const funnel = first.get(BUSINESS_METRICS.funnelStep.name)!;
    expect(funnel.unit).toBe('{step}');
    expect(funnel.description).toBe(BUSINESS_METRICS.funnelStep.description);
    expect(funnel.sum!.aggregationTemporality).toBe(CUMULATIVE);
    expect(funnel.sum!.isMonotonic).toBe(true);
    for (const [step, source, device_type, variant, times] of FUNNEL) {
      expect(sumPoint(funnel, { step, source, device_type, experiment_variant: variant ?? 'control' })).toBe(
        times,
      );
    }
    for (const [key, cents] of expectedRevenue()) {
      const [product_category, payment_method, region] = key.split('|');
      expect(
        sumPoint(first.get(BUSINESS_METRICS.revenue.name), { product_category, payment_method, region }),
      ).toBe(cents);
    }

    const timing = first.get(BUSINESS_METRICS.timeToConversion.name)!;
    expect(timing.unit).toBe('s');
    expect(timing.histogram!.aggregationTemporality).toBe(CUMULATIVE);
    const [timingPoint] = timing.histogram!.dataPoints;
    expect(timingPoint.explicitBounds).toEqual([...BUSINESS_METRICS.timeToConversion.buckets]);
    const perBucket = timingPoint.bucketCounts.map(Number);
    const cumulative = perBucket.map((_, i) => perBucket.slice(0, i + 1).reduce((a, b) => a + b, 0));
    expect(cumulative).toEqual(
      cumulativeBuckets(CONVERSION_SECONDS, BUSINESS_METRICS.timeToConversion.buckets),
    );
    expect(Number(timingPoint.count)).toBe(CONVERSION_SECONDS.length);

    const perMinute = first.get(BUSINESS_METRICS.revenuePerMinute.name)!;
    expect(perMinute.gauge!.dataPoints.length).toBe(new Set(REVENUE.map((r) => r[3])).size);

    // A second export carries the grown totals with the same start time (cumulative and monotonic).
    handle.metrics.recordFunnelStep('cart_view', {
      source: 'google_ads',
      deviceType: 'mobile',
      experimentVariant: 'B',
    });
    await handle.forceFlush();
    const second = lastRequestMetrics(receiver.requests);
    const cartView = {
      step: 'cart_view',
      source: 'google_ads',
      device_type: 'mobile',
      experiment_variant: 'B',
    };
    expect(sumPoint(second.get(funnel.name), cartView)).toBe(101);
    const startOf = (metric: OtlpMetric | undefined) =>
      metric!.sum!.dataPoints.find((p) => attributesOf(p.attributes).step === 'cart_view')!.startTimeUnixNano;
    expect(startOf(second.get(funnel.name))).toBe(startOf(funnel));
  });

  it('pushes deltas, gzip-compressed, when asked', async () => {
    handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: {
        protocol: 'http/json',
        url: receiver.url,
        exportIntervalMillis: 60_000,
        temporality: 'delta',
        compression: 'gzip',
      },
      env: {},
    });
    const labels = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
    handle.metrics.recordRevenue(1000, labels);
    handle.metrics.recordRevenue(500, labels);
    await handle.forceFlush();
    handle.metrics.recordRevenue(250, labels);
    await handle.forceFlush();
    await handle.forceFlush(); // nothing new: the revenue series is left out

    expect(receiver.requests.every((request) => request.gzip)).toBe(true);
    const revenueIn = (request: ReceivedRequest) =>
      request.body.resourceMetrics
        .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
        .find((m) => m.name === BUSINESS_METRICS.revenue.name);
    const [first, second, third] = receiver.requests.map(revenueIn);
    expect(first!.sum!.aggregationTemporality).toBe(DELTA);
    expect(sumPoint(first, { region: 'eu_west' })).toBe(1500);
    expect(sumPoint(second, { region: 'eu_west' })).toBe(250);
    expect(third).toBeUndefined();
    const orderValue = receiver.requests[1].body.resourceMetrics
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .find((m) => m.name === BUSINESS_METRICS.orderValue.name)!;
    expect(orderValue.histogram!.aggregationTemporality).toBe(DELTA);
    expect(Number(orderValue.histogram!.dataPoints[0].count)).toBe(1);
    expect(orderValue.histogram!.dataPoints[0].sum).toBe(250);
  });

  it('takes service.name and resource attributes from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    handle = initBusinessMetrics({
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', // the test receiver decodes JSON
        OTEL_SERVICE_NAME: 'from-env',
        OTEL_RESOURCE_ATTRIBUTES: 'team=growth,service.name=overridden-by-OTEL_SERVICE_NAME',
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
      },
    });
    handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    await handle.forceFlush();
    const resource = attributesOf(receiver.requests[0].body.resourceMetrics[0].resource.attributes);
    expect(resource['service.name']).toBe('from-env');
    expect(resource.team).toBe('growth');
  });

  it('pushes on its interval without being asked', async () => {
    handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { protocol: 'http/json', url: receiver.url, exportIntervalMillis: 200 },
      env: {},
    });
    handle.metrics.recordFeatureUsage('search', { userTier: 'free', isNewUser: true });
    await receiver.waitFor((requests) => requests.length >= 2, 5000);
  });

  it('gives Prometheus and OTLP identical values when both run', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus', 'otlp'],
      prometheus: { port: 0 },
      otlp: { protocol: 'http/json', url: receiver.url, exportIntervalMillis: 60_000 },
      env: {},
    });
    await handle.ready;
    runWorkload(handle.metrics);
    await handle.forceFlush();
    const exposition = parseExposition(await (await fetch(handle.prometheus!.url)).text());
    const pushed = lastRequestMetrics(receiver.requests);

    let compared = 0;
    for (const [name, metric] of pushed) {
      for (const point of metric.sum?.dataPoints ?? []) {
        const family = metric.sum!.isMonotonic ? `${name}_total` : name;
        expect(exposition.value(family, attributesOf(point.attributes))).toBe(
          Number(point.asDouble ?? point.asInt),
        );
        compared++;
      }
      for (const point of metric.histogram?.dataPoints ?? []) {
        const labels = attributesOf(point.attributes);
        expect(exposition.value(`${name}_count`, labels)).toBe(Number(point.count));
        expect(exposition.value(`${name}_sum`, labels)).toBe(point.sum);
        let running = 0;
        point.bucketCounts.forEach((count, i) => {
          running += Number(count);
          const le = i < point.explicitBounds.length ? String(point.explicitBounds[i]) : '+Inf';
          expect(exposition.value(`${name}_bucket`, { ...labels, le })).toBe(running);
        });
        compared++;
      }
      for (const point of metric.gauge?.dataPoints ?? []) {
        expect(exposition.value(name, attributesOf(point.attributes))).toBe(
          Number(point.asDouble ?? point.asInt),
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(15);
  });
});
