/**
 * src/integrations/http/public.ts directly: the list of the core's API that the Fastify, NestJS and Web entry
 * points re-export (their tests build their own lists from this one). Exactly these names, each the very object of
 * the module that defines it, so an entry point never hands out a second copy of a helper or constant.
 */
import * as context from '../../../src/integrations/http/context';
import * as activeUsers from '../../../src/integrations/http/active-users';
import * as publicApi from '../../../src/integrations/http/public';
import * as rateLimit from '../../../src/integrations/http/rate-limit';
import * as httpServerMetrics from '../../../src/metrics/http-server-metrics';
import { exportNames, notReExported, words } from '../../support/entry-points';

it('exports exactly the shared helpers, constants and nothing else at run time', () => {
  expect(exportNames(publicApi)).toEqual(
    words(`
      DEFAULT_EXPERIMENT_VARIANTS DEFAULT_IPV6_PREFIX_LENGTH DEFAULT_MAX_ROUTES DEFAULT_UTM_SOURCES
      HTTP_SERVER_DURATION_BUCKETS HTTP_SERVER_REQUEST_DURATION
      classifyUtmSource deriveDeviceType deriveExperimentVariant deriveSessionContext deriveSource readCookie
      userFromSession
    `),
  );
});

it('re-exports each as the very object of its module', () => {
  expect(notReExported(publicApi, [context, activeUsers, rateLimit, httpServerMetrics])).toEqual([]);
  expect(publicApi.deriveSessionContext).toBe(context.deriveSessionContext);
  expect(publicApi.HTTP_SERVER_DURATION_BUCKETS).toBe(httpServerMetrics.HTTP_SERVER_DURATION_BUCKETS);
});
