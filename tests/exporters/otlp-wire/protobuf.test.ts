/**
 * src/exporters/otlp-wire/protobuf.ts: OTLP/protobuf requests from the store, differential against the upstream
 * transformer (differential.ts has the workloads and cases): the bytes are identical, and both decode (protobufjs,
 * with the OTLP schema transcribed in fixtures/, an independent decoder) to the same
 * ExportMetricsServiceRequest, with no byte the schema does not account for. With exemplars, the same request plus
 * each exemplar's every field (the schema's Exemplar was checked against the generated code of
 * go.opentelemetry.io/proto/otlp v1.11.1, which the Collector decodes with: fields 2 time_unix_nano, 3 as_double,
 * 4 span_id, 5 trace_id, 6 as_int, 7 filtered_attributes; NumberDataPoint 5, HistogramDataPoint 8).
 */
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { encodeProtobufRequest } from '../../../src/exporters/otlp-wire/protobuf';
import { describeAgainstUpstream, describeExemplars, OTLP_SCHEMA } from './differential';

const RequestType = OTLP_SCHEMA.lookupType('otlp.ExportMetricsServiceRequest');

/** The request the bytes hold, as a plain object (64-bit integers as decimal strings, bytes as base64). */
function decode(bytes: Uint8Array): unknown {
  const message = RequestType.decode(bytes);
  // Every byte is accounted for by the schema: re-encoding what was decoded takes exactly as many bytes.
  expect(RequestType.encode(message).finish().length).toBe(bytes.length);
  return RequestType.toObject(message, { longs: String, bytes: String, arrays: true, oneofs: true });
}

describeAgainstUpstream('OTLP/protobuf', encodeProtobufRequest, (resourceMetrics) => {
  const ours = encodeProtobufRequest(resourceMetrics);
  const upstream = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
  expect(decode(ours)).toEqual(decode(upstream));
  expect(Buffer.from(ours).equals(Buffer.from(upstream))).toBe(true);
});

describeExemplars(
  'OTLP/protobuf',
  encodeProtobufRequest,
  decode,
  // bytes: String gives base64; OTLP's ids are raw bytes, 16 and 8 of them.
  (id) => Buffer.from(id as string, 'base64').toString('hex'),
  (request) => ProtobufMetricsSerializer.serializeRequest(request)!,
);
