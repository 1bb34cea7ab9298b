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
import { checkSnapshot } from '../../src/cluster/validate';

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
  it('sends a value the wire cannot carry as is as the text the exposition writes; leaves out attributes it cannot read', () => {
    const warnings: string[] = [];
    const noop = () => undefined;
    diag.setLogger(
      { error: noop, info: noop, debug: noop, verbose: noop, warn: (message) => warnings.push(message) },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const encoder = new SnapshotEncoder('worker-1');
      // Values JSON would turn into null (which the primary refuses, and with it the whole snapshot) or cannot
      // encode at all: an app's SDK attributes may hold them (`{ coupon: undefined }`).
      const odd = [
        { region: 10n, coupon: undefined, ratio: NaN },
        { region: 'eu', coupon: 'none', ratio: 1 },
      ] as unknown as Attributes[];
      const first = encoder.encode(
        collection([
          sum('jobs', [
            [odd[0]!, 3],
            [odd[1]!, 4],
          ]),
        ]),
        1,
      );
      expect(first.keys).toEqual([
        JSON.stringify(['region', '10', 'coupon', '', 'ratio', 'null']),
        JSON.stringify(['region', 'eu', 'coupon', 'none', 'ratio', 1]),
      ]);
      expect(first.metrics.map((metric) => [metric.name, metric.points])).toEqual([['jobs', [0, 3, 1, 4]]]);
      expect(checkSnapshot(first).ok).toBe(true);
      expect(warnings).toEqual([]);
      // Attributes that cannot be read at all: that series stays out, said once a minute; the rest is sent.
      const unreadable = Object.defineProperty({ region: 'apac' }, 'coupon', {
        enumerable: true,
        get() {
          throw new Error('hostile getter');
        },
      }) as Attributes;
      const second = new SnapshotEncoder('worker-2').encode(
        collection([
          sum('jobs', [
            [unreadable, 5],
            [odd[1]!, 6],
          ]),
        ]),
        1,
      );
      expect(second.keys).toEqual([JSON.stringify(['region', 'eu', 'coupon', 'none', 'ratio', 1])]);
      expect(second.metrics.map((metric) => metric.points)).toEqual([[0, 6]]);
      expect(warnings).toEqual([
        'otel-business-metrics: cluster worker: jobs is left out of the aggregate (a series has attributes that cannot be read)',
      ]);
    } finally {
      diag.disable();
    }
  });
});
