/**
 * `otel-business-metrics/nestjs`: a NestJS 12 module giving a Nest app what the Express entry point gives an
 * Express app, on the Express and the Fastify platform alike: HTTP server metrics keyed by the route pattern,
 * `/metrics`, the engagement route for the browser client, active users, and the recorder as a provider.
 *
 * Folder src/integrations/nestjs/. Owns: the NestJS adapter of the framework-neutral core (`integrations/http/`):
 * `BusinessMetricsModule.forRoot` (a global dynamic module), its providers, its two controllers (built per
 * `forRoot` with Nest's decorators applied as functions), and the request hooks it installs on the platform's
 * server through Nest's `HttpAdapterHost` (an Express middleware, added when the module is built so that it runs
 * before Nest's body parser, or a Fastify `onRequest` hook: each platform's own route pattern and client
 * address). Must not touch: what the core decides (limits, answers, labels), other adapters. `@nestjs/common` and `@nestjs/core` are optional peer dependencies, loaded (through the support
 * room's optional-peer loader) when `forRoot` is first called.
 * Must not import: `express`, `fastify`, `hono`, `next`, `src/metrics/`, `src/series/`, `src/guard/`, `src/exporters/`.
 */
import type { DynamicModule, MiddlewareConsumer, NestModule } from '@nestjs/common' with {
  'resolution-mode': 'import',
};
import type { HttpAdapterHost } from '@nestjs/core' with { 'resolution-mode': 'import' };
import {
  addFastifyRequestHooks,
  adapterParts,
  businessMetrics,
  loadOptionalPeer,
  nodeBodyOf,
  nodeRequestObserver,
  readNodeBody,
  type AdapterOptions,
  type AdapterParts,
  type EngagementEndpoint,
  type MetricsEndpoint,
} from '../http';

export * from '../http/public';

/** Injection token of the recorder: `constructor(@Inject(BUSINESS_METRICS) private readonly metrics: BusinessMetricsRecorder)`. */
export const BUSINESS_METRICS = 'otel-business-metrics:BusinessMetrics';

const MODULE_OPTIONS = 'otel-business-metrics:ModuleOptions';

/** The request of either platform: Express's, or Fastify's (`FastifyRequest`). */
export type PlatformRequest = unknown;

/**
 * Options of {@link BusinessMetricsModule.forRoot}: `telemetry`, `httpMetrics`, `metrics`, `engagement`,
 * `activeUsers`, as the Fastify plugin's. Requests are the platform's (Express's or Fastify's). The platform's body
 * parser (Nest's default) reads the engagement body first; the route holds the parsed body to the same 16 kB limit.
 * A global prefix applies to the routes unless you exclude them.
 */
export type BusinessMetricsModuleOptions = AdapterOptions<PlatformRequest>;

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** Fastify's reply or Express's response: each platform writes the answer its own way. */
interface PlatformResponse {
  code?(status: number): { headers(h: Readonly<Record<string, string>>): { send(body: unknown): unknown } };
  status?(status: number): { set(h: Readonly<Record<string, string>>): { send(body: unknown): unknown } };
}

function write(res: PlatformResponse, answer: Answer): void {
  if (typeof res.code === 'function') res.code(answer.status).headers(answer.headers).send(answer.body);
  else res.status!(answer.status).set(answer.headers).send(answer.body);
}

/** What the module reads of either platform's request. */
interface AnyPlatformRequest {
  readonly method: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly ip?: string;
  readonly url?: string;
  readonly body?: unknown;
  readonly _body?: boolean;
  /** Fastify: the Node request. */
  readonly raw?: Parameters<typeof readNodeBody>[0] & {
    readonly url?: string;
    readonly socket?: { readonly localAddress?: string };
  };
  readonly socket?: { readonly remoteAddress?: string; readonly localAddress?: string };
}

type NestCommon = typeof import('@nestjs/common', { with: { 'resolution-mode': 'import' } });
type NestCore = typeof import('@nestjs/core', { with: { 'resolution-mode': 'import' } });

let nest: { common: NestCommon; core: NestCore } | undefined;

function loadNest(): { common: NestCommon; core: NestCore } {
  nest ??= {
    common: loadOptionalPeer<NestCommon>({
      name: '@nestjs/common',
      neededBy: 'otel-business-metrics/nestjs',
      note: 'NestJS 12',
    }),
    core: loadOptionalPeer<NestCore>({
      name: '@nestjs/core',
      neededBy: 'otel-business-metrics/nestjs',
      note: 'NestJS 12',
    }),
  };
  return nest;
}

function header(req: AnyPlatformRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function metricsController(path: string, endpoint: MetricsEndpoint<PlatformRequest>) {
  const { common } = loadNest();
  class BusinessMetricsScrapeController {
    async scrape(req: AnyPlatformRequest, res: PlatformResponse): Promise<void> {
      write(
        res,
        await endpoint.answer(
          // Fastify's request keeps method and url in getters: name them rather than spread the object.
          { method: req.method, url: req.url, headers: req.headers, socket: req.raw?.socket ?? req.socket },
          req,
        ),
      );
    }
  }
  decorateRoute(common, BusinessMetricsScrapeController, 'scrape', path);
  return BusinessMetricsScrapeController;
}

function engagementController(path: string, endpoint: EngagementEndpoint<PlatformRequest>) {
  const { common } = loadNest();
  class BusinessMetricsEngagementController {
    async receive(req: AnyPlatformRequest, res: PlatformResponse): Promise<void> {
      // Nest's platform parser (body-parser on Express, Fastify's JSON parser) may have read the body already.
      const body =
        req.raw === undefined
          ? nodeBodyOf(req as unknown as Parameters<typeof nodeBodyOf>[0])
          : req.body !== undefined
            ? () => Promise.resolve({ kind: 'parsed' as const, value: req.body })
            : (limit: number) => readNodeBody(req.raw!, limit);
      write(
        res,
        await endpoint({
          method: req.method,
          header: (name) => header(req, name),
          client: req.ip ?? req.socket?.remoteAddress,
          raw: req,
          body,
        }),
      );
    }
  }
  decorateRoute(common, BusinessMetricsEngagementController, 'receive', path);
  return BusinessMetricsEngagementController;
}

/** `@Controller() class { @All(path) method(@Req() req, @Res() res) }`, applied as functions. */
function decorateRoute(common: NestCommon, target: new () => object, method: string, path: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method)!;
  Reflect.defineProperty(
    target.prototype,
    method,
    common.All(path)(target.prototype, method, descriptor) ?? descriptor,
  );
  common.Req()(target.prototype, method, 0);
  common.Res()(target.prototype, method, 1);
  common.Controller()(target);
}

/** HTTP server metrics from an Express middleware: Nest registers each route with its whole path. */
function expressObserver(
  httpMetrics: NonNullable<AdapterParts<PlatformRequest>['httpMetrics']>,
): (req: AnyPlatformRequest, res: unknown) => void {
  return nodeRequestObserver<
    AnyPlatformRequest & { route?: { path?: unknown }; baseUrl?: string; protocol?: string }
  >(
    httpMetrics,
    // Nest registers each route with its whole path (prefix, controller, method) on the app's router.
    (req) => (typeof req.route?.path === 'string' && !req.baseUrl ? req.route.path : undefined),
    (req) => req.protocol === 'https',
  ) as (req: AnyPlatformRequest, res: unknown) => void;
}

/**
 * On the Express platform, the timing middleware as early as the module is built: `NestFactory.create` builds the
 * modules before `app.init()` registers Nest's body parser, so this middleware runs first, and a request the parser
 * refuses (malformed JSON 400, 413) is recorded too, its body's reading timed. False when there is no Express
 * adapter yet (a testing module compiled before its app): `configure` installs it then, after the parser.
 */
function observeExpressEarly(adapterHost: HttpAdapterHost, parts: AdapterParts<PlatformRequest>): boolean {
  const adapter = adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
  if (parts.httpMetrics === undefined || adapter?.getType() !== 'express') return false;
  const observe = expressObserver(parts.httpMetrics);
  adapter
    .getInstance<{ use(handler: (req: unknown, res: unknown, next: () => void) => void): void }>()
    .use((req, res, next) => {
      observe(req as AnyPlatformRequest, res);
      next();
    });
  return true;
}

/**
 * The request hooks on the platform's server: timing every request (unless the Express middleware is in place
 * already), active users.
 */
function installHooks(
  adapterHost: HttpAdapterHost,
  parts: AdapterParts<PlatformRequest>,
  observing: boolean,
): void {
  const adapter = adapterHost.httpAdapter;
  const platform = adapter.getType();
  if (platform !== 'express' && platform !== 'fastify') {
    throw new Error(`BusinessMetricsModule: the ${platform} platform is not supported (express or fastify)`);
  }
  const instance = adapter.getInstance<{
    use(handler: (req: unknown, res: unknown, next: () => void) => void): void;
    addHook(name: 'onRequest', hook: (request: unknown, reply: unknown, done: () => void) => void): void;
  }>();
  const { httpMetrics, countActiveUser } = parts;
  if (platform === 'fastify') {
    // As the Fastify plugin installs them (the Express middleware, when in place, is the Express platform's).
    addFastifyRequestHooks<AnyPlatformRequest, { raw: never }>(
      (hook) =>
        instance.addHook('onRequest', hook as (request: unknown, reply: unknown, done: () => void) => void),
      httpMetrics,
      countActiveUser,
    );
    return;
  }
  if (httpMetrics !== undefined && !observing) {
    const observe = expressObserver(httpMetrics);
    instance.use((req, res, next) => {
      observe(req as AnyPlatformRequest, res);
      next();
    });
  }
  if (countActiveUser !== undefined) {
    instance.use((req, _res, next) => {
      countActiveUser(req);
      next();
    });
  }
}

/**
 * The module: `imports: [BusinessMetricsModule.forRoot({ telemetry, metrics: { auth }, engagement: { features } })]`
 * in your root module. Global: inject the recorder anywhere with `@Inject(BUSINESS_METRICS)`.
 */
export class BusinessMetricsModule implements NestModule {
  private readonly observing: boolean;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly parts: AdapterParts<PlatformRequest>,
  ) {
    this.observing = observeExpressEarly(adapterHost, parts);
  }

  /**
   * Nest calls this before it registers the app's routes: the hooks then see every request that reaches the app's
   * router (on Fastify, `onRequest` runs before the body is parsed wherever it is added).
   */
  configure(_consumer: MiddlewareConsumer): void {
    installHooks(this.adapterHost, this.parts, this.observing);
  }

  /**
   * The module with its providers and routes. Configuration mistakes (credentials that could never match, a
   * malformed cap) throw here, when the app's module is defined.
   */
  static forRoot(options: BusinessMetricsModuleOptions = {}): DynamicModule {
    const { common, core } = loadNest();
    if (!decorated) {
      common.Inject(core.HttpAdapterHost)(BusinessMetricsModule, undefined, 0);
      common.Inject(MODULE_OPTIONS)(BusinessMetricsModule, undefined, 1);
      common.Module({})(BusinessMetricsModule);
      decorated = true;
    }
    const parts = adapterParts(options, 'BusinessMetricsModule');
    const controllers: Array<new () => object> = [];
    if (parts.metrics) controllers.push(metricsController(parts.metrics.path, parts.metrics.endpoint));
    if (parts.engagement)
      controllers.push(engagementController(parts.engagement.path, parts.engagement.endpoint));
    return {
      module: BusinessMetricsModule,
      global: true,
      controllers,
      providers: [
        { provide: MODULE_OPTIONS, useValue: parts },
        { provide: BUSINESS_METRICS, useValue: options.telemetry?.metrics ?? businessMetrics },
      ],
      exports: [BUSINESS_METRICS],
    };
  }
}

let decorated = false;
