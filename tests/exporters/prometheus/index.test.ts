/**
 * src/exporters/prometheus/index.ts only re-exports the pull path's public surface (the root entry and the
 * integrations import it from here): its exact runtime export list, each name the very object of the module
 * that owns it, the naming rules included (they live in the catalog, one source of truth).
 */
import * as prometheus from '../../../src/exporters/prometheus';
import * as naming from '../../../src/catalog/prometheus-naming';
import * as negotiation from '../../../src/exporters/prometheus/negotiation';
import * as pullReader from '../../../src/exporters/prometheus/pull-reader';
import * as scraperAuth from '../../../src/exporters/prometheus/scraper-auth';
import * as serializer from '../../../src/exporters/prometheus/serializer';
import { exportOrigins } from '../../support/entry-points';

describe('src/exporters/prometheus/index.ts', () => {
  it('exports exactly the pull path, each name the very object of its module', () => {
    expect(exportOrigins(prometheus, { naming, negotiation, pullReader, scraperAuth, serializer })).toEqual({
      OPENMETRICS_CONTENT_TYPE: 'serializer',
      PROMETHEUS_TEXT_CONTENT_TYPE: 'serializer',
      PrometheusPullReader: 'pullReader',
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
});
