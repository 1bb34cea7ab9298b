/**
 * src/exporters/otlp-wire/exemplars.ts directly: which exemplars an OTLP request may carry (ids of exactly 32 and
 * 16 hex digits, in either case; a finite value; a finite, non-negative time) and the exemplar's time as an
 * HrTime, exact for every whole millisecond. That the encoders leave the others out is held by protobuf.test.ts
 * and json.test.ts; that a point whose `exemplars` is no list is written without them, here.
 */
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { exemplarTime, otlpCarries } from '../../../src/exporters/otlp-wire/exemplars';
import { encodeJsonRequest } from '../../../src/exporters/otlp-wire/json';
import { encodeProtobufRequest } from '../../../src/exporters/otlp-wire/protobuf';

const valid = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  value: 2599,
  timeUnixMs: 1_764_361_234_567,
};

it('carries an exemplar of a valid span context, upper-case hex included', () => {
  expect(otlpCarries(valid)).toBe(true);
  expect(
    otlpCarries({ ...valid, traceId: valid.traceId.toUpperCase(), spanId: valid.spanId.toUpperCase() }),
  ).toBe(true);
  expect(otlpCarries({ ...valid, value: -0.5, timeUnixMs: 0 })).toBe(true);
});

it.each([
  ['nothing', undefined],
  ['null', null],
  ['a string', valid.traceId],
  ['a short trace id', { ...valid, traceId: valid.traceId.slice(1) }],
  ['a long trace id', { ...valid, traceId: `${valid.traceId}00` }],
  ['a span id of 15 digits', { ...valid, spanId: valid.spanId.slice(1) }],
  ['a non-hex span id', { ...valid, spanId: '00f067aa0ba902bz' }],
  ['a numeric trace id', { ...valid, traceId: 1 }],
  ['a NaN value', { ...valid, value: Number.NaN }],
  ['an infinite value', { ...valid, value: Number.POSITIVE_INFINITY }],
  ['a value as text', { ...valid, value: '2599' }],
  ['a time before the epoch', { ...valid, timeUnixMs: -1 }],
  ['an infinite time', { ...valid, timeUnixMs: Number.POSITIVE_INFINITY }],
  ['no time', { ...valid, timeUnixMs: undefined }],
])('leaves out %s', (_, exemplar) => {
  expect(otlpCarries(exemplar)).toBe(false);
});

it('gives the time as an HrTime, exact for whole milliseconds', () => {
  expect(exemplarTime(valid)).toEqual([1_764_361_234, 567_000_000]);
  expect(exemplarTime({ ...valid, timeUnixMs: 0 })).toEqual([0, 0]);
  expect(exemplarTime({ ...valid, timeUnixMs: 999 })).toEqual([0, 999_000_000]);
  // A fraction of a millisecond rounds to the nanosecond and never reaches the next second.
  expect(exemplarTime({ ...valid, timeUnixMs: 1999.9999999999 })).toEqual([1, 999_999_999]);
  const out: [number, number] = [7, 7];
  expect(exemplarTime(valid, out)).toBe(out);
});

it.each([
  ['an object', { 0: valid }],
  ['a string', 'exemplars'],
  ['a number', 1],
])(
  'writes a point whose producer set `exemplars` to %s without them, in protobuf and JSON (one point never fails an export)',
  (_, exemplars) => {
    const resourceMetrics: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        {
          scope: { name: 'foreign' },
          metrics: [
            {
              descriptor: { name: 'jobs', description: '', unit: '', valueType: ValueType.DOUBLE },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [
                {
                  startTime: [1, 0],
                  endTime: [2, 0],
                  attributes: {},
                  value: 3,
                  exemplars,
                } as DataPoint<number>,
              ],
            },
          ],
        },
      ],
    };
    expect(encodeProtobufRequest(resourceMetrics).length).toBeGreaterThan(0);
    const json = JSON.parse(Buffer.from(encodeJsonRequest(resourceMetrics)).toString('utf8'));
    const point = json.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0];
    expect(point.asDouble).toBe(3);
    expect(point).not.toHaveProperty('exemplars');
  },
);
