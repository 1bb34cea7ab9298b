/**
 * Lets an app-built MetricReader (for example an upstream PrometheusExporter) export the package's metrics,
 * through public routes of the SDK only.
 *
 * A reader takes extra metric producers only in its constructor, and the app built this one already. So the
 * MeterProvider gets a bridge reader, constructed with the package's local store as a producer; the app's reader
 * gets, through its public `setMetricProducer` (the call a MeterProvider itself makes), a producer that collects
 * the bridge. Temporality, aggregation and cardinality are the app reader's choices; shutdown and forceFlush of
 * the bridge reach the app's reader.
 *
 * Owns: that bridge. Must not touch: what is recorded, how it is serialised.
 */
import { MetricReader, type CollectionResult, type MetricProducer } from '@opentelemetry/sdk-metrics';

export class BridgeReader extends MetricReader {
  /**
   * @throws Error when `target` is already bound to a MeterProvider (the SDK allows one producer per reader).
   */
  constructor(
    private readonly target: MetricReader,
    metricProducers: MetricProducer[],
  ) {
    super({
      aggregationSelector: (type) => target.selectAggregation(type),
      aggregationTemporalitySelector: (type) => target.selectAggregationTemporality(type),
      cardinalitySelector: (type) => target.selectCardinalityLimit(type),
      metricProducers,
    });
    const producer: MetricProducer = {
      collect: (options?: Parameters<MetricProducer['collect']>[0]): Promise<CollectionResult> =>
        this.collect(options),
    };
    try {
      target.setMetricProducer(producer);
    } catch (error) {
      throw new Error(
        'initBusinessMetrics: this MetricReader is already bound to a MeterProvider; pass a new reader, a ' +
          `PushMetricExporter, or construct BusinessMetrics from a Meter of that provider (${String(error)})`,
        { cause: error },
      );
    }
  }

  protected onForceFlush(): Promise<void> {
    return this.target.forceFlush();
  }

  protected onShutdown(): Promise<void> {
    return this.target.shutdown();
  }
}
