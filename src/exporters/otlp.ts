/**
 * The OTLP push path: the real OTLP/HTTP (JSON) exporter behind a PeriodicExportingMetricReader, wrapped so a
 * failed export is counted in a self-metric and logged at a rate-limited warning.
 *
 * Owns: exporter construction from resolved options, failure accounting. Must not touch: what is recorded.
 * Failures never reach the app: the SDK retries refused connections and 429/502/503/504 within the export
 * timeout, drops a failed batch, and the next export carries cumulative totals again (with the default
 * cumulative temporality nothing is lost; with delta the failed interval is lost, as with any delta exporter).
 */
import type { Counter } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { RateLimitedWarnings } from '../guard/reporter';
import type { ResolvedConfig } from '../config/options';

export function createOtlpExporter(otlp: ResolvedConfig['otlp']): PushMetricExporter {
  return new OTLPMetricExporter({
    url: otlp.url,
    headers: otlp.headers,
    compression: otlp.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    temporalityPreference:
      otlp.temporality === 'delta'
        ? AggregationTemporalityPreference.DELTA
        : AggregationTemporalityPreference.CUMULATIVE,
    timeoutMillis: otlp.exportTimeoutMillis,
  });
}

/** Delegates to an exporter and accounts for its failures. */
export class FailureCountingExporter implements PushMetricExporter {
  private failures: Counter | undefined;
  private readonly warnings = new RateLimitedWarnings();
  private readonly attributes: { exporter: string };
  // Present exactly when the wrapped exporter has them: the reader treats a missing selector as "use defaults".
  readonly selectAggregationTemporality?: (instrumentType: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (instrumentType: InstrumentType) => AggregationOption;

  constructor(
    private readonly inner: PushMetricExporter,
    exporterName: string,
  ) {
    this.attributes = Object.freeze({ exporter: exporterName });
    if (inner.selectAggregationTemporality) {
      this.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
    }
    if (inner.selectAggregation) this.selectAggregation = inner.selectAggregation.bind(inner);
  }

  /** The counter exists only once the MeterProvider does. */
  bindFailureCounter(counter: Counter): void {
    this.failures = counter;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      this.inner.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) this.recordFailure(result.error);
        resultCallback(result);
      });
    } catch (error) {
      this.recordFailure(error);
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private recordFailure(error: unknown): void {
    this.failures?.add(1, this.attributes);
    const reason = error instanceof Error ? error.message : String(error);
    this.warnings.warn('export', `${this.attributes.exporter} export failed: ${reason.slice(0, 300)}`);
  }
}
