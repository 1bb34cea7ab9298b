/**
 * src/exporters/otlp-wire/json.ts: OTLP/JSON requests from the store, differential against the upstream
 * transformer (differential.ts has the workloads and cases): the text is identical, key order, timestamps as
 * decimal strings and NaN and infinities as null included.
 */
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { encodeJsonRequest } from '../../../src/exporters/otlp-wire/json';
import { describeAgainstUpstream } from './differential';

describeAgainstUpstream('OTLP/JSON', encodeJsonRequest, (resourceMetrics) => {
  const ours = Buffer.from(encodeJsonRequest(resourceMetrics)).toString('utf8');
  const upstream = Buffer.from(JsonMetricsSerializer.serializeRequest(resourceMetrics)!).toString('utf8');
  expect(ours).toBe(upstream);
});
