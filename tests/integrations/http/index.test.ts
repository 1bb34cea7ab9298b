/**
 * src/integrations/http/index.ts directly: the core's entry point for the adapters. Exactly public.ts's list plus
 * what only adapters use (the endpoints, body readers, recorders, the Fastify route reader, the options resolver, the optional-peer loader,
 * the singleton recorder), each the very object of the module that defines it: an adapter that imports the core
 * gets the same function every other adapter gets, never a copy with its own state.
 */
import * as activeUsers from '../../../src/integrations/http/active-users';
import * as adapterOptions from '../../../src/integrations/http/adapter-options';
import * as beacon from '../../../src/integrations/http/beacon';
import * as body from '../../../src/integrations/http/body';
import * as fastifyRoute from '../../../src/integrations/http/fastify-route';
import * as core from '../../../src/integrations/http';
import * as metricsEndpoint from '../../../src/integrations/http/metrics-endpoint';
import * as publicApi from '../../../src/integrations/http/public';
import * as rateLimit from '../../../src/integrations/http/rate-limit';
import * as request from '../../../src/integrations/http/request';
import * as serverMetrics from '../../../src/integrations/http/server-metrics';
import * as validate from '../../../src/integrations/http/validate';
import * as singleton from '../../../src/metrics/singleton';
import * as optionalPeer from '../../../src/support/optional-peer';
import { exportNames, notReExported, words } from '../../support/entry-points';

it("exports public.ts's list and the adapters' building blocks, nothing else at run time", () => {
  const forAdapters = words(`
    TokenBucketLimiter activeUserCounter adapterParts addFastifyRequestHooks businessMetrics clientKey decodeJsonBody
    engagementEndpoint
    fastifyRouteReader httpServerMetrics liveHttpServerMetrics loadOptionalPeer metricsEndpoint nodeBodyOf nodeRequestObserver
    readNodeBody readWebBody recordBatch requestView validateEngagementBatch
  `);
  expect(exportNames(core)).toEqual([...exportNames(publicApi), ...forAdapters].sort());
});

it('re-exports each as the very object of its module', () => {
  const modules = [
    publicApi,
    activeUsers,
    adapterOptions,
    beacon,
    body,
    fastifyRoute,
    metricsEndpoint,
    rateLimit,
  ];
  expect(
    notReExported(core, [...modules, request, serverMetrics, validate, singleton, optionalPeer]),
  ).toEqual([]);
  expect(core.loadOptionalPeer).toBe(optionalPeer.loadOptionalPeer);
  expect(core.businessMetrics).toBe(singleton.businessMetrics);
});
