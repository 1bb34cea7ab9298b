/**
 * src/exporters/prometheus/index.ts only re-exports the pull path's public surface (the root entry and the
 * integrations import it from here): its exact runtime export list, each name the very object of the module
 * that owns it, the naming rules included (they live in the catalog, one source of truth); the pull reader is
 * a stand-in for its class that loads it (and the SDK) on first use.
 */
import * as prometheus from '../../../src/exporters/prometheus';
import * as naming from '../../../src/catalog/prometheus-naming';
import * as negotiation from '../../../src/exporters/prometheus/negotiation';
import * as pullReader from '../../../src/exporters/prometheus/pull-reader';
import * as pullServer from '../../../src/exporters/prometheus/pull-server';
import * as scraperAuth from '../../../src/exporters/prometheus/scraper-auth';
import * as serializer from '../../../src/exporters/prometheus/serializer';
import { exportOrigins } from '../../support/entry-points';

describe('src/exporters/prometheus/index.ts', () => {
  it('exports exactly the pull path, each name the very object of its module', () => {
    expect(exportOrigins(prometheus, { naming, negotiation, pullServer, scraperAuth, serializer })).toEqual({
      OPENMETRICS_CONTENT_TYPE: 'serializer',
      PROMETHEUS_TEXT_CONTENT_TYPE: 'serializer',
      PrometheusPullReader: '(not from any source)',
      PrometheusPullServer: 'pullServer',
      acceptsGzip: 'negotiation',
      chooseFormat: 'negotiation',
      escapeHelp: 'serializer',
      escapeLabelValue: 'serializer',
      exponentialAsExplicit: 'serializer',
      formatSampleValue: 'serializer',
      isLoopbackHost: 'scraperAuth',
      negotiate: 'negotiation',
      otelToPrometheusName: 'naming',
      prometheusLabelName: 'naming',
      prometheusMetricName: 'naming',
      scraperAuth: 'scraperAuth',
      serializePrometheus: 'serializer',
      shapeOfKind: 'naming',
      upstreamPrometheusName: 'naming',
    });
  });

  it('PrometheusPullReader is the pull-reader.ts class, loaded on first use (it extends the SDK MetricReader)', () => {
    const reader = new prometheus.PrometheusPullReader({ preventServerStart: true });
    expect(reader).toBeInstanceOf(pullReader.PrometheusPullReader);
    expect(Object.getPrototypeOf(reader)).toBe(pullReader.PrometheusPullReader.prototype);
    expect(new pullReader.PrometheusPullReader({ preventServerStart: true })).toBeInstanceOf(
      prometheus.PrometheusPullReader,
    );
  });
});
