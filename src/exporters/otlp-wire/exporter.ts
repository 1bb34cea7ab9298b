/**
 * The package's OTLP metric exporter: the official export delegate of the 0.223 line (the same one
 * `@opentelemetry/exporter-metrics-otlp-{proto,http,grpc}` build: bounded concurrency, retries with backoff within
 * the timeout, gzip, headers, User-Agent, TLS, OTEL_EXPORTER_OTLP_* variables read by the official configuration
 * functions) with this package's serializer instead of the upstream transformer. Temporality and aggregation are
 * chosen as the upstream exporters choose them for the same preference.
 *
 * Owns: wiring the delegates to our serializers, and turning a receiver's partial success that rejected data points
 * (which the delegate only logs, and calls a success) into a failed export. Must not touch: the delegates'
 * behaviour, failure accounting (../otlp.ts wraps this exporter), encoding (protobuf.ts, json.ts).
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  AggregationType,
  InstrumentType,
  type AggregationOption,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  createGrpcSerializer,
  jsonSerializer,
  metricsExporterMetricsHelper,
  protobufSerializer,
  SpareRequest,
  type ExportMetricsServiceResponse,
  type GrpcRequestSerializer,
  type RequestSerializer,
} from './index';

/** The official delegate, as far as this exporter uses it. */
export interface ExportDelegate {
  export(request: ResourceMetrics, resultCallback: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What the HTTP exporters of the 0.223 line accept and this package passes (their legacy node config). */
export interface HttpExporterConfig {
  url: string;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMillis: number;
  httpAgentOptions?: unknown;
}

// The upstream component types, so the transport's self-observability names this exporter as it names theirs.
const HTTP_COMPONENT = 'otlp_http_metric_exporter';
const GRPC_COMPONENT = 'otlp_grpc_metric_exporter';
const GRPC_SERVICE = 'MetricsExportService';
const GRPC_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

interface NodeHttpBase {
  convertLegacyHttpOptions(
    config: unknown,
    signal: string,
    path: string,
    requiredHeaders: Record<string, string>,
  ): unknown;
  createOtlpHttpExportDelegate(
    options: unknown,
    serializer: RequestSerializer,
    componentType: string,
    helper: typeof metricsExporterMetricsHelper,
    meterProvider: undefined,
  ): ExportDelegate;
}

/** The grpc transport's package (@opentelemetry/otlp-grpc-exporter-base), as far as it is used here. */
export interface GrpcExporterBase {
  /** The merged configuration: the channel credentials come as a factory the transport calls once. */
  convertLegacyOtlpGrpcOptions(
    config: unknown,
    signal: string,
  ): { url?: string; credentials?: () => unknown };
  createOtlpGrpcExportDelegate(
    options: unknown,
    serializer: GrpcRequestSerializer,
    componentType: string,
    helper: typeof metricsExporterMetricsHelper,
    meterProvider: undefined,
    grpcName: string,
    grpcPath: string,
  ): ExportDelegate;
}

/** OTLP/HTTP with protobuf (the spec's default) or JSON bodies. */
export function createHttpExporter(
  format: 'protobuf' | 'json',
  config: HttpExporterConfig,
  temporality: 'cumulative' | 'delta',
): PushMetricExporter {
  // Loaded here, not at the top: an app that never pushes never loads the transport.
  const base = require('@opentelemetry/otlp-exporter-base/node-http') as NodeHttpBase;
  const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
  const rejections = new Rejections();
  const delegate = base.createOtlpHttpExportDelegate(
    base.convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', { 'Content-Type': contentType }),
    rejections.noticedBy(format === 'json' ? jsonSerializer : protobufSerializer),
    HTTP_COMPONENT,
    metricsExporterMetricsHelper,
    undefined,
  );
  return new StoreOtlpExporter(delegate, temporality, rejections);
}

/**
 * OTLP/gRPC through the official gRPC transport (`grpcBase`, loaded by otlp-grpc.ts from the optional package).
 * `wrapCredentials` gets the channel credentials the transport chose from the URL and the OTEL_EXPORTER_OTLP_*
 * variables (TLS certificates included), and may return credentials to use instead (undefined: those).
 */
export function createGrpcExporter(
  grpcBase: GrpcExporterBase,
  config: Record<string, unknown>,
  temporality: 'cumulative' | 'delta',
  wrapCredentials?: (credentials: unknown) => unknown,
): PushMetricExporter {
  const spare = new SpareRequest();
  const rejections = new Rejections();
  const options = grpcBase.convertLegacyOtlpGrpcOptions(config, 'METRICS');
  const chosen = options.credentials;
  if (wrapCredentials !== undefined && typeof chosen === 'function') {
    options.credentials = () => {
      const credentials = chosen();
      return wrapCredentials(credentials) ?? credentials;
    };
  }
  const delegate = grpcBase.createOtlpGrpcExportDelegate(
    options,
    rejections.noticedBy(createGrpcSerializer(spare)),
    GRPC_COMPONENT,
    metricsExporterMetricsHelper,
    undefined,
    GRPC_SERVICE,
    GRPC_PATH,
  );
  return new StoreOtlpExporter(delegate, temporality, rejections, spare);
}

/** An export the receiver accepted only in part: OTLP's partial success with `rejected_data_points` > 0. */
export class OtlpRejectedError extends Error {
  constructor(
    readonly rejectedDataPoints: number,
    readonly receiverMessage: string,
  ) {
    super(
      `the receiver rejected ${rejectedDataPoints} data point${rejectedDataPoints === 1 ? '' : 's'}` +
        (receiverMessage ? `: ${receiverMessage}` : ''),
    );
    this.name = 'OtlpRejectedError';
  }
}

/**
 * What the receiver rejected in the response decoded last. The delegate decodes a success response and calls the
 * export's result callback right after, in the same synchronous step (otlp-export-delegate.js), so the response
 * the callback takes is the one of its own export. A partial success rejecting nothing is only the receiver's
 * warning (the OTLP spec): the delegate's own `diag.warn` says it, and the export succeeded.
 */
class Rejections {
  private last: OtlpRejectedError | undefined;

  noticedBy<S extends RequestSerializer | GrpcRequestSerializer>(serializer: S): S {
    return {
      ...serializer,
      deserializeResponse: (data: Uint8Array): ExportMetricsServiceResponse => {
        this.last = undefined;
        const response = serializer.deserializeResponse(data);
        this.last = rejectionOf(response);
        return response;
      },
    };
  }

  /** The rejection of the response just decoded, if any, forgotten once taken. */
  take(): OtlpRejectedError | undefined {
    const last = this.last;
    this.last = undefined;
    return last;
  }
}

function rejectionOf(
  response: ExportMetricsServiceResponse | null | undefined,
): OtlpRejectedError | undefined {
  const partial = response?.partialSuccess;
  // OTLP/JSON writes int64 fields as strings; some receivers write numbers.
  const rejected = Number(partial?.rejectedDataPoints ?? 0);
  if (!(rejected > 0)) return undefined;
  const message = typeof partial?.errorMessage === 'string' ? partial.errorMessage.slice(0, 200) : '';
  return new OtlpRejectedError(rejected, message);
}

const DEFAULT_AGGREGATION: AggregationOption = Object.freeze({ type: AggregationType.DEFAULT });

class StoreOtlpExporter implements PushMetricExporter {
  constructor(
    private readonly delegate: ExportDelegate,
    private readonly temporality: 'cumulative' | 'delta',
    private readonly rejections: Rejections,
    /** The gRPC serializer's kept request buffer (see createGrpcSerializer); none over HTTP. */
    private readonly spare?: SpareRequest,
  ) {}

  export(metrics: ResourceMetrics, answer: (result: ExportResult) => void): void {
    const resultCallback = (result: ExportResult) => {
      const rejected = this.rejections.take();
      answer(
        rejected !== undefined && result.code === ExportResultCode.SUCCESS
          ? { code: ExportResultCode.FAILED, error: rejected }
          : result,
      );
    };
    const spare = this.spare;
    if (spare === undefined) {
      this.delegate.export(metrics, resultCallback);
      return;
    }
    spare.written = undefined;
    // Filled in after the call: the delegate serialises synchronously inside export() and answers later (or at
    // once, before serialising, when too many exports are in flight: then nothing is given back).
    const handed: { buffer?: Buffer } = {};
    this.delegate.export(metrics, (result) => {
      // Answered after the transport's last attempt; grpc-js copied the request into its frame before sending,
      // so nothing reads these bytes any more.
      if (handed.buffer !== undefined) spare.giveBack(handed.buffer);
      resultCallback(result);
    });
    handed.buffer = spare.written;
  }

  forceFlush(): Promise<void> {
    return this.delegate.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.delegate.shutdown();
  }

  selectAggregation(): AggregationOption {
    return DEFAULT_AGGREGATION;
  }

  /** The upstream exporters' selectors: cumulative throughout, or delta except for up-down counters. */
  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    if (this.temporality === 'cumulative') return AggregationTemporality.CUMULATIVE;
    return instrumentType === InstrumentType.UP_DOWN_COUNTER ||
      instrumentType === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
      ? AggregationTemporality.CUMULATIVE
      : AggregationTemporality.DELTA;
  }
}
