/**
 * src/cluster/encode.ts: what a worker cannot send to the primary is said (a rate-limited diag warning naming the
 * metric), never left out silently, and the rest of the snapshot still goes.
 */
import { diag, DiagLogLevel, ValueType, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { SnapshotEncoder } from '../../src/cluster/encode';

const TIME: [number, number] = [1_700_000_000, 0];

function sum(name: string, points: Array<[Attributes, number]>): MetricData {
  return {
    descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map(([attributes, value]) => ({ startTime: TIME, endTime: TIME, attributes, value })),
  };
}

function collection(metrics: MetricData[]): CollectionResult {
  return {
    resourceMetrics: {
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: 'app' }, metrics }],
    },
    errors: [],
  };
}

describe('SnapshotEncoder', () => {
  it('warns, once a minute per metric, about a series it cannot send, and sends the rest', () => {
    const warnings: string[] = [];
    const noop = () => undefined;
    diag.setLogger(
      { error: noop, info: noop, debug: noop, verbose: noop, warn: (message) => warnings.push(message) },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const encoder = new SnapshotEncoder('worker-1');
      // Values JSON cannot carry: the SDK refuses these at record time, an app-built collection may not.
      const unsendable = { region: 10n } as unknown as Attributes;
      const metrics = [
        sum('jobs', [
          [unsendable, 3],
          [{ region: 'eu' }, 4],
        ]),
        sum('sent', [[{}, 1]]),
      ];
      const first = encoder.encode(collection(metrics), 1);
      encoder.encode(collection(metrics), 2);
      expect(first.keys).toEqual([JSON.stringify(['region', 'eu']), '[]']);
      expect(first.metrics.map((metric) => [metric.name, metric.points])).toEqual([
        ['jobs', [0, 4]],
        ['sent', [1, 1]],
      ]);
      expect(warnings).toEqual([
        'otel-business-metrics: cluster worker: jobs is left out of the aggregate (a series has attribute values JSON cannot carry)',
      ]);
    } finally {
      diag.disable();
    }
  });
});
