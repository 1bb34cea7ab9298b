/**
 * A known workload on a real SDK MeterProvider (counter, histogram with explicit buckets, observable gauge,
 * up-down counter) plus an external MetricProducer, shared by the Prometheus exporter tests.
 */
import { ValueType, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes, emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type CollectionResult,
  type MetricProducer,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';

export const RESOURCE_ATTRIBUTES = { 'service.name': 'shop', 'service.version': '1.2.3' } as const;
export const METER_NAME = 'fixture-meter';
export const METER_VERSION = '0.0.1';
export const DURATION_BUCKETS = [0.005, 0.01, 0.1, 1, 5] as const;

/** An external source of metrics (as a bridge from another library would be). */
export function createQueueDepthProducer(depth: () => number): MetricProducer {
  return {
    async collect(): Promise<CollectionResult> {
      const now: [number, number] = [Math.floor(Date.now() / 1000), 0];
      return {
        errors: [],
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [
            {
              scope: { name: 'queue-bridge', version: '2.0.0' },
              metrics: [
                {
                  descriptor: {
                    name: 'queue.depth',
                    description: 'Items waiting in the queue',
                    unit: '{item}',
                    valueType: ValueType.INT,
                  },
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  dataPointType: DataPointType.GAUGE,
                  dataPoints: [
                    { startTime: now, endTime: now, attributes: { queue: 'orders' }, value: depth() },
                  ],
                },
              ],
            },
          ],
        },
      };
    },
  };
}

export interface Workload {
  readonly provider: MeterProvider;
  /** Records `rounds` more rounds of the standard workload. */
  record(rounds?: number): void;
  /** Memory gauge value the observable callback reports. */
  memoryBytes: number;
  shutdown(): Promise<void>;
}

// Frozen and reused per series, as the package's core does.
const GET_A: Attributes = Object.freeze({ 'http.request.method': 'GET', 'http.route': '/a' });
const POST_B: Attributes = Object.freeze({ 'http.request.method': 'POST', 'http.route': '/b' });

/**
 * Per round: requests GET /a += 3, POST /b += 2; durations on /a: 0.003, 0.05, 0.5, 2, 10 (one in each bucket
 * incl. +Inf); active jobs +5 then -2 (net +3). The memory gauge reports `memoryBytes`.
 */
export function createWorkload(readers: MetricReader[]): Workload {
  const provider = new MeterProvider({
    readers,
    resource: resourceFromAttributes({ ...RESOURCE_ATTRIBUTES }),
  });
  const meter = provider.getMeter(METER_NAME, METER_VERSION);
  const requests = meter.createCounter('http.server.requests', {
    unit: '{request}',
    description: 'Requests served',
  });
  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Time to serve a request',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  const activeJobs = meter.createUpDownCounter('queue.active_jobs', {
    unit: '{job}',
    description: 'Jobs running',
  });
  const memory = meter.createObservableGauge('process.memory.usage', {
    unit: 'By',
    description: 'Resident memory',
  });
  const workload: Workload = {
    provider,
    memoryBytes: 1048576,
    record(rounds = 1) {
      for (let round = 0; round < rounds; round++) {
        requests.add(3, GET_A);
        requests.add(2, POST_B);
        for (const seconds of [0.003, 0.05, 0.5, 2, 10]) duration.record(seconds, { 'http.route': '/a' });
        activeJobs.add(5, { queue: 'orders' });
        activeJobs.add(-2, { queue: 'orders' });
      }
    },
    shutdown: () => provider.shutdown(),
  };
  memory.addCallback((result) => result.observe(workload.memoryBytes, { 'memory.kind': 'rss' }));
  return workload;
}

/** What Prometheus 2.42 sends on every scrape. */
export const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
/** What Prometheus 3.16 sends with created-timestamp-zero-ingestion (scrape/scrape.go acceptHeader). */
export const PROMETHEUS_CT_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,' +
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
  'application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3';
