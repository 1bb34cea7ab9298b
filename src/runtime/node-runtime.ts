/**
 * Opt-in Node.js runtime metrics (event-loop delay and utilization, GC duration, heap) beside the business ones,
 * from the OpenTelemetry runtime instrumentation line that supports Node 20
 * (`@opentelemetry/instrumentation-runtime-node` 0.36.x, an optional dependency of this package).
 *
 * Owns: loading that optional package, binding it to the package's MeterProvider (never the global one), and
 * turning it off at shutdown. Must not touch: the metric names or units (the instrumentation's, per the semantic
 * conventions; Prometheus names follow from the exporter's naming, e.g. `nodejs_eventloop_delay_p99_seconds`).
 *
 * Why these are worth having next to business metrics: a conversion dip that coincides with event-loop delay
 * points at the app, not the shoppers (the correlation CLI's example compares exactly these two).
 * Must not import: `src/metrics/`, `src/series/`, `src/exporters/`, `@opentelemetry/api`.
 */
import type { MeterProvider } from '@opentelemetry/api';
import { otelToPrometheusName } from '../catalog/prometheus-naming';
import { loadOptionalPeer } from '../support';

/**
 * The runtime instruments the docs, the demo dashboard and the correlation example refer to, as the
 * instrumentation 0.36 emits them (it emits more: min/max/mean/p50/p90 delay, heap limit and per-space sizes,
 * event-loop time, active resources).
 */
export const RUNTIME_METRICS = {
  eventLoopDelayP99: { name: 'nodejs.eventloop.delay.p99', unit: 's', shape: 'gauge' },
  eventLoopUtilization: { name: 'nodejs.eventloop.utilization', unit: '1', shape: 'gauge' },
  heapUsed: { name: 'v8js.memory.heap.used', unit: 'By', shape: 'gauge' },
  gcDuration: { name: 'v8js.gc.duration', unit: 's', shape: 'histogram' },
} as const;

/** Their Prometheus family names with the default (Collector) naming, e.g. `nodejs_eventloop_delay_p99_seconds`. */
export const RUNTIME_PROMETHEUS_FAMILIES = Object.fromEntries(
  Object.entries(RUNTIME_METRICS).map(([key, metric]) => [
    key,
    otelToPrometheusName(metric.name, metric.unit, metric.shape),
  ]),
) as Record<keyof typeof RUNTIME_METRICS, string>;

/** Options of the runtime metrics (`runtimeMetrics` in `initBusinessMetrics`). */
export interface RuntimeMetricsOptions {
  /** Event-loop delay sampling resolution in milliseconds (the instrumentation's `monitoringPrecision`). Default 10. */
  readonly monitoringPrecision?: number;
}

/** The package name, for messages and the dynamic require. */
export const RUNTIME_INSTRUMENTATION_PACKAGE = '@opentelemetry/instrumentation-runtime-node';

interface RuntimeInstrumentation {
  setMeterProvider(meterProvider: MeterProvider): void;
  enable(): void;
  disable(): void;
}

type RuntimeInstrumentationClass = new (config: {
  enabled?: boolean;
  monitoringPrecision?: number;
}) => RuntimeInstrumentation;

/** A running runtime-metrics source; `stop()` unregisters its observers and timers. */
export interface RuntimeMetrics {
  stop(): void;
}

function loadInstrumentation(): RuntimeInstrumentationClass {
  const loaded = loadOptionalPeer<{ RuntimeNodeInstrumentation?: RuntimeInstrumentationClass }>({
    name: RUNTIME_INSTRUMENTATION_PACKAGE,
    neededBy: 'runtimeMetrics',
    note: '0.36.x for Node 20',
    install: `${RUNTIME_INSTRUMENTATION_PACKAGE}@~0.36.1`,
  });
  if (typeof loaded.RuntimeNodeInstrumentation !== 'function') {
    throw new Error(`${RUNTIME_INSTRUMENTATION_PACKAGE} does not export RuntimeNodeInstrumentation`);
  }
  return loaded.RuntimeNodeInstrumentation;
}

/**
 * Checks the options and loads the optional instrumentation package now (so `initBusinessMetrics` fails before it
 * opens a port or starts a timer), and returns the function that starts it on a MeterProvider.
 *
 * @throws TypeError for malformed options; OptionalPeerError naming the package when it is missing or broken.
 */
export function prepareRuntimeMetrics(
  options: boolean | RuntimeMetricsOptions,
): (meterProvider: MeterProvider) => RuntimeMetrics {
  const precision = typeof options === 'object' && options !== null ? options.monitoringPrecision : undefined;
  if (typeof options !== 'boolean' && (typeof options !== 'object' || options === null)) {
    throw new TypeError(
      `runtimeMetrics must be true, false or { monitoringPrecision }, got ${String(options)}`,
    );
  }
  if (precision !== undefined && !(Number.isInteger(precision) && precision >= 1 && precision <= 60_000)) {
    throw new TypeError(
      `runtimeMetrics.monitoringPrecision must be an integer number of milliseconds from 1 to 60000, got ${String(precision)}`,
    );
  }
  const Instrumentation = loadInstrumentation();
  return (meterProvider) => {
    // Constructed disabled, so it never starts on the global MeterProvider before it is bound to ours.
    const instrumentation = new Instrumentation({
      enabled: false,
      ...(precision === undefined ? {} : { monitoringPrecision: precision }),
    });
    instrumentation.setMeterProvider(meterProvider);
    instrumentation.enable();
    let stopped = false;
    return {
      stop() {
        if (stopped) return;
        stopped = true;
        instrumentation.disable();
      },
    };
  };
}
