/**
 * The port every web integration records HTTP server metrics through (`http.server.request.duration`, named per
 * the OpenTelemetry HTTP semantic conventions), so integrations never build instruments themselves: a finished
 * request goes in as plain values, and this file turns it into a series of the one shared histogram.
 *
 * Owns: the histogram's label policies (method allow-list with `_OTHER`, the lifetime cap on routes, status
 * codes, scheme), how a series' labels become its semconv attributes (`error.type` from the status, no
 * `http.route` for unmatched requests), one histogram per telemetry handle. Must not touch: the instrument's
 * definition (the catalog's HTTP_METRICS), frameworks, requests and responses (integrations read those), timing.
 *
 * With `telemetry`, a request costs one series-table lookup by label ids in the package's own store, like a
 * business event: no attribute object, no hashing. Routes are the app's own patterns, a bounded set, so each route
 * keeps its label id and the series its last request went to: the next request of that route with the same method,
 * status and scheme (most of them) goes straight to that series, one Map lookup by the pattern in all. With only a
 * `meter`, the same table forwards to an SDK histogram, whose attribute hashing (~1 us) is paid per request.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import type { LabelPolicy } from '../catalog/labels';
import { HTTP_METRICS } from '../catalog/metrics';
import { DEFAULT_LIMITS } from '../config/defaults';
import { GuardReporter } from '../guard/reporter';
import type { HistogramCell } from '../series/cells';
import { instrumentContextOf } from './business-metrics';
import { InstrumentFactory, type BoundInstrument } from './instruments';

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

/**
 * What a route remembers: its label id, and the series its last request went to with that request's method, status
 * and scheme. Only labels that resolved without a relabel are remembered (an `other` route or status counts each
 * relabel, which a remembered series would skip), and only series of their own (never the overflow series, whose
 * every use is counted).
 */
interface RouteSlot {
  readonly routeId: number;
  method: string | undefined;
  status: number | undefined;
  https: boolean;
  cell: HistogramCell | undefined;
}

/** Where the durations go, and the route cap. */
export interface HttpServerMetricsOptions {
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
   * `telemetry`, the first recorder built for a handle sets it (they share one histogram).
   */
  readonly maxRoutes?: number;
}

/** Records finished requests into `http.server.request.duration`. */
export interface HttpServerMetrics {
  /**
   * One finished request. `method` as received; `route` the pattern the framework matched (undefined: none
   * matched, the series carries no `http.route`); `statusCode` undefined when the client went away before the
   * response finished (`error.type="aborted"`). Never throws: an error is counted as a dropped measurement.
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
 * The recorder of one integration. `caller` names the integration's function in configuration errors and
 * warnings (`httpMetricsMiddleware`, `businessMetricsPlugin`).
 * @throws RangeError for a malformed `maxRoutes`; TypeError without `telemetry` or `meter`.
 */
export function httpServerMetrics(
  options: HttpServerMetricsOptions,
  caller = 'httpMetricsMiddleware',
): HttpServerMetrics {
  const maxRoutes = options.maxRoutes ?? DEFAULT_MAX_ROUTES;
  if (!Number.isSafeInteger(maxRoutes) || maxRoutes < 0) {
    throw new RangeError(`${caller}: maxRoutes must be an integer >= 0 (got ${String(maxRoutes)})`);
  }
  const { instrument, reporter } = boundInstrument(options, maxRoutes, caller);
  const [methods, routes, statuses, schemes] = instrument.labels;
  const methodIds = new Map(KNOWN_METHODS.map((method) => [method, methods!.resolve(method)]));
  const otherMethodId = methods!.resolve(OTHER_METHOD);
  const httpId = schemes!.resolve('http');
  const httpsId = schemes!.resolve('https');
  const table = instrument.table;
  // One slot per admitted route pattern (bounded like the route vocabulary's own cache), and one for no route.
  const slots = new Map<string, RouteSlot>();
  const maxSlots = 4 * maxRoutes + 64;
  const noRoute: RouteSlot = {
    routeId: routes!.resolve(NO_ROUTE),
    method: undefined,
    status: undefined,
    https: false,
    cell: undefined,
  };
  return {
    record(method, route, statusCode, https, seconds) {
      try {
        let slot = route === undefined ? noRoute : slots.get(route);
        if (
          slot !== undefined &&
          slot.cell !== undefined &&
          slot.method === method &&
          slot.status === statusCode &&
          slot.https === https
        ) {
          slot.cell.record(seconds);
          return;
        }
        let routeId: number;
        if (slot !== undefined) routeId = slot.routeId;
        else {
          routeId = routes!.resolve(route);
          // Only a route the vocabulary admitted as itself: one relabelled to `other` counts on every request.
          if (routes!.cachedId(route!) === routeId && slots.size < maxSlots) {
            slot = { routeId, method: undefined, status: undefined, https: false, cell: undefined };
            slots.set(route!, slot);
          }
        }
        const statusText =
          statusCode === undefined ? ABORTED : (STATUS_TEXT[statusCode] ?? String(statusCode));
        const statusId = statuses!.resolve(statusText);
        const methodId = (method !== undefined ? methodIds.get(method) : undefined) ?? otherMethodId;
        const schemeId = https ? httpsId : httpId;
        const cell = table.at4(methodId, routeId, statusId, schemeId);
        cell.record(seconds);
        if (
          slot !== undefined &&
          statuses!.cachedId(statusText) === statusId &&
          table.find([methodId, routeId, statusId, schemeId]) === cell
        ) {
          slot.method = method;
          slot.status = statusCode;
          slot.https = https;
          slot.cell = cell;
        }
      } catch (error) {
        // A hostile request must never turn into an exception in the app's event loop.
        reporter.internalError(caller, instrument.family, error);
      }
    },
  };
}

/** One histogram per telemetry handle: a second integration must not register a second family in the store. */
const SHARED = new WeakMap<object, { instrument: BoundInstrument<HistogramCell>; reporter: GuardReporter }>();

function boundInstrument(
  options: HttpServerMetricsOptions,
  maxRoutes: number,
  caller: string,
): { instrument: BoundInstrument<HistogramCell>; reporter: GuardReporter } {
  const policies = httpLabelPolicies(maxRoutes);
  const binding = {
    method: caller,
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
        `${caller}: telemetry must be the handle initBusinessMetrics returned (or pass a meter)`,
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
    throw new TypeError(`${caller}: pass { telemetry } (the initBusinessMetrics handle) or { meter }`);
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
