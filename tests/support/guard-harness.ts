/**
 * A GuardReporter wired to real SDK observable counters (a MeterProvider with a pull reader), and a diag logger that keeps
 * every warning, so guard tests read exactly what an exporter would see.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { SELF_METRICS } from '../../src/catalog/metrics';
import { GuardReporter } from '../../src/guard/reporter';

class PullReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

export interface GuardHarness {
  readonly reporter: GuardReporter;
  readonly warnings: string[];
  /** Value of a self-metric counter for exactly these attributes (0 if never counted). */
  count(metric: keyof typeof SELF_METRICS, attributes: Record<string, string>): Promise<number>;
  /** Every (attributes, value) of a self-metric counter. */
  points(
    metric: keyof typeof SELF_METRICS,
  ): Promise<Array<{ attributes: Record<string, string>; value: number }>>;
  close(): Promise<void>;
}

export function createGuardHarness(options: { strict?: boolean; now?: () => number } = {}): GuardHarness {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('guard-test');
  const reporter = new GuardReporter(options.strict === true, options.now);
  // Wired as BusinessMetrics wires them: observable counters over the reporter's tallies.
  for (const kind of ['dropped', 'labelOverflow', 'seriesOverflow'] as const) {
    meter
      .createObservableCounter(SELF_METRICS[kind].name)
      .addCallback((result) =>
        reporter.forEachCount(kind, (attributes, count) => result.observe(count, attributes)),
      );
  }
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: () => undefined,
    warn: (message: string) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

  const points = async (metric: keyof typeof SELF_METRICS) => {
    const { resourceMetrics } = await reader.collect();
    const data = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === SELF_METRICS[metric].name);
    if (!data) return [];
    if (data.dataPointType !== DataPointType.SUM) throw new Error(`${metric} is not a sum`);
    return data.dataPoints.map((point) => ({
      attributes: point.attributes as Record<string, string>,
      value: point.value,
    }));
  };
  return {
    reporter,
    warnings,
    points,
    async count(metric, attributes) {
      const matching = (await points(metric)).filter(
        (point) => JSON.stringify(point.attributes) === JSON.stringify(attributes),
      );
      return matching.reduce((sum, point) => sum + point.value, 0);
    },
    async close() {
      diag.disable();
      await provider.shutdown();
    },
  };
}
