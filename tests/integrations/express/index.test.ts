/**
 * src/integrations/express/index.ts directly: `otel-business-metrics/express` exports the core's public list
 * (public.ts), the core pieces an Express app may use on its own (the limiter, batch validation and recording),
 * and the Express middleware and router, nothing else at run time; each is the very object of the module that
 * defines it, so the entry point adds no wrapper and no second copy of any state.
 */
import * as entry from '../../../src/integrations/express';
import * as activeUsers from '../../../src/integrations/express/active-users';
import * as engagementRouter from '../../../src/integrations/express/engagement-router';
import * as httpMetrics from '../../../src/integrations/express/http-metrics';
import * as metricsEndpoint from '../../../src/integrations/express/metrics-endpoint';
import * as core from '../../../src/integrations/http';
import * as publicApi from '../../../src/integrations/http/public';
import { exportNames, notReExported, words } from '../../support/entry-points';

it("exports the core's public list, four core pieces and the Express handlers, nothing else at run time", () => {
  const own = words(`
    TokenBucketLimiter clientKey recordBatch validateEngagementBatch
    activeUsersMiddleware engagementRouter httpMetricsMiddleware metricsMiddleware
  `);
  expect(exportNames(entry)).toEqual([...exportNames(publicApi), ...own].sort());
});

it('re-exports each as the very object of its module', () => {
  expect(notReExported(entry, [core, activeUsers, engagementRouter, httpMetrics, metricsEndpoint])).toEqual(
    [],
  );
  expect(entry.engagementRouter).toBe(engagementRouter.engagementRouter);
  expect(entry.userFromSession).toBe(core.userFromSession);
});
