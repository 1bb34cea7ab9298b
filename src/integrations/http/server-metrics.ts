/**
 * Technical HTTP server metrics named per the OpenTelemetry HTTP semantic conventions, so business and technical
 * metrics can be read side by side from the same exposition.
 *
 * Owns: recording a finished request from `{ method, route, status, aborted, https }` for every adapter, timing
 * a Node request until its response closes, the label policies of `http.server.request.duration` (method
 * allow-list, the lifetime cap on routes, status codes, scheme) and how a series' labels become its semconv
 * attributes (`error.type` from the status). Must not touch: the instrument's definition (the catalog's
 * HTTP_METRICS), business metrics, request handling (it only observes), how a framework finds the route pattern
 * (each adapter's business), frameworks.
 *
 * With `telemetry`, a request costs one series-table lookup by label ids in the package's own store, like a
 * business event: no attribute object, no hashing. With only a `meter`, the same table forwards to an SDK
 * histogram, whose attribute hashing (~1 us) is paid per request.
 */
import { diag, type Attributes, type Meter } from '@opentelemetry/api';
import type { LabelPolicy } from '../../catalog/labels';
import { HTTP_METRICS } from '../../catalog/metrics';
import { DEFAULT_LIMITS } from '../../config/defaults';
import { GuardReporter } from '../../guard/reporter';
import { instrumentContextOf } from '../../metrics/business-metrics';
import { InstrumentFactory, type BoundInstrument } from '../../metrics/instruments';
import { liveRecorder } from '../../metrics/singleton';
import type { HistogramCell } from '../../series/cells';

const DEFINITION = HTTP_METRICS.serverRequestDuration;

/** Instrument name from the HTTP semantic conventions. */
export const HTTP_SERVER_REQUEST_DURATION = DEFINITION.name;

/** Bucket boundaries the semantic conventions advise for `http.server.request.duration`, in seconds. */
export const HTTP_SERVER_DURATION_BUCKETS: readonly number[] = DEFINITION.buckets;

/** Distinct `http.route` values kept for the life of the process by default. */
export const DEFAULT_MAX_ROUTES = 100;

// Methods the conventions list; anything else is recorded as `_OTHER` to bound cardinality.
const KNOWN_METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];
const OTHER_METHOD = '_OTHER';
// The route label of a request no route matched (a 404, a middleware answer): the series carries no http.route.
const NO_ROUTE = '_none';
// The status label of a request whose client went away before the response finished.
const ABORTED = 'aborted';
// Status codes an app sends are a handful; this bounds an app that echoes arbitrary ones.
const MAX_STATUS_CODES = 64;
// Route patterns can be long (`/orgs/:org/projects/:project/members/:member`); cutting them would merge routes.
const MIN_ROUTE_LENGTH = 256;

const STATUS_TEXT: string[] = Array.from({ length: 1000 }, (_, code) => String(code));

export interface HttpMetricsOptions {
  /**
   * The handle from `initBusinessMetrics`: durations are recorded in the package's own series store (a request
   * costs a table lookup, no attribute hashing), exported by every reader of the handle, and routes beyond
   * `maxRoutes` are counted in `business_metrics_label_overflow_total`.
   */
  readonly telemetry?: { readonly metrics: unknown };
  /**
   * Or a meter of a MeterProvider your app owns: durations go to an SDK histogram on it (each request then pays
   * the SDK's attribute hashing, about 1 us). Ignored when `telemetry` is given.
   */
  readonly meter?: Meter;
  /**
   * Most distinct `http.route` values over the life of the process (default 100); routes beyond it are
   * recorded as `other`. Routes are the app's own patterns, so this only binds for apps with more routes. With
   * `telemetry`, the first middleware built for a handle sets it (they share one histogram).
   */
  readonly maxRoutes?: number;
}

/** Records finished requests into `http.server.request.duration`; built once per adapter. */
export interface ServerRequestRecorder {
  /**
   * Record one request. `route` is the pattern the framework matched (undefined: none matched, no `http.route`);
   * `statusCode` undefined means the client went away before the response finished. Never throws (unless
   * `strict`).
   */
  record(
    method: string | undefined,
    route: string | undefined,
    statusCode: number | undefined,
    https: boolean,
    seconds: number,
  ): void;
}

/**
 * The recorder of an adapter. `where` names the adapter's function in configuration errors and warnings
 * (`httpMetricsMiddleware`, `businessMetricsPlugin`).
 * @throws RangeError for a malformed `maxRoutes`; TypeError without `telemetry` or `meter`.
 */
export function httpServerMetrics(options: HttpMetricsOptions, where: string): ServerRequestRecorder {
  const maxRoutes = validMaxRoutes(options.maxRoutes, where);
  const { instrument, reporter } = boundInstrument(options, maxRoutes, where);
  const [methods, routes, statuses, schemes] = instrument.labels;
  const methodIds = new Map(KNOWN_METHODS.map((method) => [method, methods!.resolve(method)]));
  const otherMethodId = methods!.resolve(OTHER_METHOD);
  const httpId = schemes!.resolve('http');
  const httpsId = schemes!.resolve('https');
  const table = instrument.table;
  return {
    record(method, route, statusCode, https, seconds) {
      try {
        const routeId = routes!.resolve(route ?? NO_ROUTE);
        const statusId = statuses!.resolve(
          statusCode === undefined ? ABORTED : (STATUS_TEXT[statusCode] ?? String(statusCode)),
        );
        table
          .at4(
            (method !== undefined ? methodIds.get(method) : undefined) ?? otherMethodId,
            routeId,
            statusId,
            https ? httpsId : httpId,
          )
          .record(seconds);
      } catch (error) {
        // A hostile request must never turn into an exception in the app's event loop.
        reporter.internalError(where, instrument.family, error);
      }
    },
  };
}

/**
 * A recorder bound to the live `initBusinessMetrics()` handle, whichever module called it (Next.js route handlers
 * run in other bundles than instrumentation.ts): bound on first use, rebound when the handle changes, recording
 * nothing before init and after shutdown.
 */
export function liveHttpServerMetrics(maxRoutes: number | undefined, where: string): ServerRequestRecorder {
  validMaxRoutes(maxRoutes, where);
  let bound: object | undefined;
  let recorder: ServerRequestRecorder | undefined;
  let warned = false;
  return {
    record(method, route, statusCode, https, seconds) {
      const live = liveRecorder();
      if (live === undefined) return;
      if (live !== bound) {
        bound = live;
        try {
          recorder = httpServerMetrics({ telemetry: { metrics: live }, maxRoutes }, where);
        } catch (error) {
          recorder = undefined;
          if (!warned) {
            warned = true;
            diag.warn(
              `${where}: no HTTP server metrics: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        }
      }
      recorder?.record(method, route, statusCode, https, seconds);
    },
  };
}

function validMaxRoutes(maxRoutes: number | undefined, where: string): number {
  const value = maxRoutes ?? DEFAULT_MAX_ROUTES;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${where}: maxRoutes must be an integer >= 0 (got ${String(value)})`);
  }
  return value;
}

/** The Node response fields a finished request is read from (`ServerResponse`, Fastify's `reply.raw`). */
interface NodeResponseLike {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * For adapters on Node's HTTP server: a function to call once per request, as early as possible, that times it
 * and records it when the response closes. `routeOf` and `httpsOf` read the framework's request when it ends.
 */
export function nodeRequestObserver<Req extends { readonly method?: string }>(
  recorder: ServerRequestRecorder,
  routeOf: (req: Req) => string | undefined,
  httpsOf: (req: Req) => boolean,
): (req: Req, res: NodeResponseLike) => void {
  const finished = (req: Req, res: NodeResponseLike, start: number): void => {
    let route: string | undefined;
    let https = false;
    try {
      route = routeOf(req);
      https = httpsOf(req);
    } catch {
      // A framework getter that throws on a hostile request: recorded without a route.
    }
    recorder.record(
      req.method,
      route,
      res.writableFinished ? res.statusCode : undefined,
      https,
      (performance.now() - start) / 1000,
    );
  };
  return (req, res) => {
    const start = performance.now();
    // `close` follows `finish` on every response, and alone when the client went away first: one listener.
    res.on('close', () => finished(req, res, start));
  };
}

/** One histogram per telemetry handle: a second middleware must not register a second family in the store. */
const SHARED = new WeakMap<object, { instrument: BoundInstrument<HistogramCell>; reporter: GuardReporter }>();

function boundInstrument(
  options: HttpMetricsOptions,
  maxRoutes: number,
  where: string,
): { instrument: BoundInstrument<HistogramCell>; reporter: GuardReporter } {
  const policies = httpLabelPolicies(maxRoutes);
  const binding = {
    method: where,
    arguments: {
      'http.request.method': 'req.method',
      'http.route': 'req.route',
      'http.response.status_code': 'res.statusCode',
      'url.scheme': 'req.protocol',
    },
  };
  if (options.telemetry !== undefined) {
    const context = instrumentContextOf(options.telemetry?.metrics);
    if (context === undefined) {
      throw new TypeError(
        `${where}: telemetry must be the handle initBusinessMetrics returned (or pass a meter)`,
      );
    }
    const shared = SHARED.get(context);
    if (shared) return shared;
    const limits = {
      ...context.options.limits,
      maxLabelLength: Math.max(context.options.limits.maxLabelLength, MIN_ROUTE_LENGTH),
    };
    const factory = new InstrumentFactory(context.meter, { ...context.options, limits, policies });
    const created = {
      instrument: factory.histogram(DEFINITION, binding, presentHttpLabels),
      reporter: context.options.reporter,
    };
    SHARED.set(context, created);
    return created;
  }
  if (options.meter === undefined) {
    throw new TypeError(`${where}: pass { telemetry } (the initBusinessMetrics handle) or { meter }`);
  }
  // A meter of the app's own provider: the same bounded table, forwarding to an SDK histogram. Its relabel tallies
  // are not exported (the app's provider has no package self-metrics); warnings still go through diag.
  const reporter = new GuardReporter(false);
  const factory = new InstrumentFactory(options.meter, {
    store: undefined,
    policies,
    limits: {
      maxLabelLength: Math.max(DEFAULT_LIMITS.maxLabelLength, MIN_ROUTE_LENGTH),
      maxSeriesPerMetric: DEFAULT_LIMITS.maxSeriesPerMetric,
    },
    reporter,
  });
  return { instrument: factory.histogram(DEFINITION, binding, presentHttpLabels), reporter };
}

function httpLabelPolicies(maxRoutes: number): Record<string, LabelPolicy> {
  return {
    'http.request.method': { kind: 'allow', values: [...KNOWN_METHODS, OTHER_METHOD] },
    'http.route': { kind: 'capped', maxValues: maxRoutes, known: [NO_ROUTE] },
    'http.response.status_code': { kind: 'capped', maxValues: MAX_STATUS_CODES, known: [ABORTED] },
    'url.scheme': { kind: 'allow', values: ['http', 'https'] },
  };
}

/** A series' label values as semconv attributes: the status as an integer, `error.type` for 5xx and aborts. */
function presentHttpLabels(labels: Attributes): Attributes {
  const attributes: Record<string, string | number> = {
    'http.request.method': String(labels['http.request.method']),
    'url.scheme': String(labels['url.scheme']),
  };
  const route = String(labels['http.route']);
  if (route !== NO_ROUTE) attributes['http.route'] = route;
  const status = String(labels['http.response.status_code']);
  if (status === ABORTED) {
    // The client went away before the response finished: no status code was delivered.
    attributes['error.type'] = ABORTED;
  } else if (/^\d{3}$/.test(status)) {
    attributes['http.response.status_code'] = Number(status);
    if (Number(status) >= 500) attributes['error.type'] = status;
  }
  return Object.freeze(attributes);
}
