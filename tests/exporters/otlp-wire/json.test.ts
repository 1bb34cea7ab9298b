/**
 * src/exporters/otlp-wire/json.ts: OTLP/JSON requests from the store, differential against the upstream
 * transformer (differential.ts has the workloads and cases): the text is identical, key order, timestamps as
 * decimal strings and NaN and infinities as null included. With exemplars, the same request plus each exemplar
 * as OTLP/JSON writes it (ids as hex strings, the time as a decimal string).
 */
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { encodeJsonRequest } from '../../../src/exporters/otlp-wire/json';
import { describeAgainstUpstream, describeExemplars } from './differential';

describeAgainstUpstream('OTLP/JSON', encodeJsonRequest, (resourceMetrics) => {
  const ours = Buffer.from(encodeJsonRequest(resourceMetrics)).toString('utf8');
  const upstream = Buffer.from(JsonMetricsSerializer.serializeRequest(resourceMetrics)!).toString('utf8');
  expect(ours).toBe(upstream);
});

describeExemplars(
  'OTLP/JSON',
  encodeJsonRequest,
  (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')),
  (id) => {
    // OTLP/JSON: hex, not the base64 of protobuf's JSON mapping.
    expect(id).toMatch(/^[0-9a-f]+$/);
    return id as string;
  },
  (request) => JsonMetricsSerializer.serializeRequest(request)!,
);
