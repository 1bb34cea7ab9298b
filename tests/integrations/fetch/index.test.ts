/**
 * src/integrations/fetch/index.ts directly: `otel-business-metrics/fetch` exports the core's public list
 * (public.ts), the Web handlers and the two HTTP-metrics wrappers, nothing else at run time, each the very object of
 * the module that defines it (the entry point only re-exports).
 */
import * as entry from '../../../src/integrations/fetch';
import * as handlers from '../../../src/integrations/fetch/handlers';
import * as httpMetrics from '../../../src/integrations/fetch/http-metrics';
import * as publicApi from '../../../src/integrations/http/public';
import { exportNames, notReExported, words } from '../../support/entry-points';

it("exports the core's public list, the Web handlers and the HTTP-metrics wrappers, nothing else", () => {
  const own = words(
    'engagementHandler httpMetricsMiddleware lastForwardedFor metricsHandler withHttpMetrics',
  );
  expect(exportNames(entry)).toEqual([...exportNames(publicApi), ...own].sort());
});

it('re-exports each as the very object of its module', () => {
  expect(notReExported(entry, [publicApi, handlers, httpMetrics])).toEqual([]);
  expect(entry.withHttpMetrics).toBe(httpMetrics.withHttpMetrics);
});
