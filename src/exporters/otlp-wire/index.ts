/**
 * Folder src/exporters/otlp-wire/: OTLP export requests encoded by the package itself, straight from the local
 * store's columns (protobuf.ts, json.ts, over protobuf-writer.ts), handed to the official OTLP transport of the
 * 0.223 line (exporter.ts). The transport is the official one so that retries, compression, headers, timeouts,
 * TLS and every OTEL_EXPORTER_OTLP_* variable behave exactly as with the upstream exporters; only the encoding,
 * which was most of an export's CPU, is ours, and it decodes to the request the upstream transformer writes, plus
 * the store's exemplars, which upstream cannot write (SDK 2.x has none; exemplars.ts).
 *
 * Owns: the request encodings (protobuf, JSON), the response decoding, the serializers the official export
 * delegates take, and the PushMetricExporter over those delegates. Must not touch: the transport and its
 * configuration (the official packages'), what is collected (series/), failure accounting (../otlp.ts).
 * Must not import: `src/metrics/`, `src/guard/`, `src/config/`.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { releaseCollection, storeCollectionOf } from '../../series/collection';
import { encodeJsonRequest } from './json';
import { encodeProtobufRequest } from './protobuf';

export { encodeJsonRequest } from './json';
export { encodeProtobufRequest } from './protobuf';

/** What the official export delegates take to turn a collection into bytes and a response into an object. */
export interface RequestSerializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): ExportMetricsServiceResponse;
}

/** OTLP's ExportMetricsServiceResponse as the upstream serializers return it. */
export interface ExportMetricsServiceResponse {
  partialSuccess?: { rejectedDataPoints?: number | string; errorMessage?: string };
}

/**
 * Encodes the request, then gives its columns back for the next collection (series/collection.ts
 * releaseCollection): the delegate reads nothing of the collection after this but its column lengths.
 */
function encodedThenReleased<T>(request: ResourceMetrics, encode: (request: ResourceMetrics) => T): T {
  try {
    return encode(request);
  } finally {
    releaseCollection(request);
  }
}

export const protobufSerializer: RequestSerializer = {
  serializeRequest: (request) => encodedThenReleased(request, encodeProtobufRequest),
  deserializeResponse: decodeProtobufResponse,
};

/**
 * The serializer of one gRPC exporter. The official gRPC transport turns what it is handed into a Buffer with
 * `Buffer.from(data)`: a copy of any Uint8Array (a Buffer too), a view of an ArrayBuffer; grpc-js then copies the
 * message once more into its frame, so the first copy is pure cost (about 1 ms and 2.4 MiB per export of 10,000
 * histogram series). A request of any size worth the saving is its own exactly sized ArrayBuffer (the encoder sizes
 * it exactly; Buffer.allocUnsafe gives sizes above half its pool a buffer of their own), so it is handed over as
 * that ArrayBuffer; a smaller one, a slice of the shared pool, as it is. And the exporter gives each request's
 * buffer back when its export has been answered (`spare`), for the next request of the same size: the series of
 * a cumulative export rarely change between two exports, and a new 2.4 MiB buffer per export was what made V8
 * collect the whole heap every few exports.
 */
export function createGrpcSerializer(spare: SpareRequest): GrpcRequestSerializer {
  return {
    serializeRequest(request) {
      const bytes = encodedThenReleased(request, (collection) =>
        encodeProtobufRequest(collection, (size) => spare.take(size)),
      );
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      if (!whole || !(bytes.buffer instanceof ArrayBuffer)) return bytes;
      spare.written = bytes;
      return bytes.buffer;
    },
    deserializeResponse: decodeProtobufResponse,
  };
}

/** A serializer for the gRPC transport, which takes an ArrayBuffer as well (see createGrpcSerializer). */
export interface GrpcRequestSerializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | ArrayBuffer | undefined;
  deserializeResponse(data: Uint8Array): ExportMetricsServiceResponse;
}

/**
 * One request buffer kept between the exports of one exporter. The serializer notes the buffer it wrote in
 * `written` (synchronously, inside the delegate's export call); the exporter gives it back once the delegate has
 * answered that export, when no attempt of the transport can read it again; the next request of exactly that size
 * is written into it. Concurrent exports simply find no spare and get a buffer of their own.
 */
export class SpareRequest {
  private spare: Buffer | undefined;
  /** The buffer the last request was written into, when it is one the exporter may give back. */
  written: Buffer | undefined;

  /** The kept buffer if it has exactly `size` bytes (it is then no longer kept). */
  take(size: number): Buffer | undefined {
    const spare = this.spare;
    if (spare === undefined || spare.length !== size) return undefined;
    this.spare = undefined;
    return spare;
  }

  giveBack(buffer: Buffer): void {
    this.spare = buffer;
  }
}

export const jsonSerializer: RequestSerializer = {
  serializeRequest: (request) => encodedThenReleased(request, encodeJsonRequest),
  deserializeResponse(data) {
    if (data.length === 0) return {};
    try {
      return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'));
    } catch {
      // Upstream answers {} too: a malformed success response is still a success.
      return {};
    }
  },
};

/**
 * The data-point count of a request, for the transport's own exporter metrics (upstream's helper reads every
 * MetricData; this one reads the store's column lengths, so it never builds the objects).
 */
export const metricsExporterMetricsHelper = {
  name: 'metric_data_point',
  countItems(request: ResourceMetrics): number {
    let count = 0;
    for (const scopeMetrics of request.scopeMetrics) {
      const collection = storeCollectionOf(scopeMetrics);
      if (collection !== undefined) for (const columns of collection.metrics) count += columns.length;
      else for (const metric of scopeMetrics.metrics) count += metric.dataPoints.length;
    }
    return count;
  },
};

/** ExportMetricsServiceResponse { partial_success (1) { rejected_data_points (1), error_message (2) } }. */
export function decodeProtobufResponse(data: Uint8Array): ExportMetricsServiceResponse {
  const result: ExportMetricsServiceResponse = {};
  const reader = new Reader(data);
  while (!reader.done()) {
    const key = reader.varint();
    if (key === ((1 << 3) | 2)) {
      const partial = new Reader(reader.bytes());
      const partialSuccess: NonNullable<ExportMetricsServiceResponse['partialSuccess']> = {};
      while (!partial.done()) {
        const field = partial.varint();
        if (field === ((1 << 3) | 0)) partialSuccess.rejectedDataPoints = partial.varint();
        else if (field === ((2 << 3) | 2)) partialSuccess.errorMessage = partial.string();
        else partial.skip(field & 7);
      }
      result.partialSuccess = partialSuccess;
    } else {
      reader.skip(key & 7);
    }
  }
  return result;
}

class Reader {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.data.length;
  }
  varint(): number {
    let value = 0;
    for (let shift = 1; ; shift *= 128) {
      if (this.pos >= this.data.length) throw new Error('truncated varint');
      const byte = this.data[this.pos++];
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
  }
  bytes(): Uint8Array {
    const length = this.varint();
    if (this.pos + length > this.data.length) throw new Error('truncated field');
    const bytes = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return bytes;
  }
  string(): string {
    const bytes = this.bytes();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`wire type ${wireType}`);
  }
}
