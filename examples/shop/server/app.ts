/**
 * The demo shop: an Express app with product list, cart, checkout and confirmation pages, instrumented with the
 * package's trackers and Express integration, plus `/metrics`, the live `/dashboard`, the admin trouble switches
 * and (optionally) the traffic simulator.
 *
 * Owns: routes, checkout flow, where each funnel step is recorded, the background jobs (session sweep, active
 * users, dashboard sampling) and their shutdown. Must not touch: metric definitions (the package's), telemetry
 * initialisation (the caller's: `main.ts` or a test).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { CheckoutTracker, businessMetrics, type BusinessMetricsHandle } from '../../../src';
import {
  activeUsersMiddleware,
  DEFAULT_EXPERIMENT_VARIANTS,
  engagementRouter,
  httpMetricsMiddleware,
  metricsMiddleware,
} from '../../../src/integrations/express';
import type { ShopAssets } from './assets';
import type { SafeHtml } from './html';
import { DashboardHistory } from './dashboard-data';
import type { ShopLedger } from './ledger';
import { requestSpans, type ShopTracing } from './tracing';
import {
  allowedHosts,
  hostAllowList,
  jsonErrors,
  operatorTokenCheck,
  requireOperator,
  sameOriginOnly,
} from './guard';
import {
  PAYMENT_METHODS,
  PRODUCTS,
  PRODUCTS_BY_ID,
  REGIONS,
  cartItemCount,
  cartLines,
  cartTotalCents,
  currencyOfRegion,
  primaryCategory,
} from './products';
import { SessionStore, type SessionStoreOptions, type ShopSession } from './sessions';
import { TrafficSimulator, type SimulatorOptions } from './simulator';
import { NO_TROUBLE, TROUBLE_PRESETS, parseTrouble, type TroubleSettings } from './trouble';
import * as views from './views';

export interface ShopOptions {
  /** The handle from `initBusinessMetrics` (with a `prometheus` exporter, so `/metrics` can be served). */
  readonly telemetry: BusinessMetricsHandle;
  readonly assets: ShopAssets;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Start the traffic simulator against the shop itself (default off here; `main.ts` turns it on). */
  readonly simulate?: boolean | Omit<SimulatorOptions, 'baseUrl'>;
  readonly trouble?: TroubleSettings;
  readonly sessions?: SessionStoreOptions;
  /** Dashboard sampling period. Default 5000 ms. */
  readonly dashboardSampleMs?: number;
  /**
   * The operator token: when set, `/metrics`, `/dashboard*` and `/admin*` (everything that reveals business numbers
   * or changes the shop) need it, as `Authorization: Bearer <token>` or as the basic-auth password a browser asks
   * for. Without it those pages are open, which `main.ts` only allows on a loopback address.
   */
  readonly operatorToken?: string;
  /** Extra `Host` values the shop answers to (a reverse proxy's name); loopback names on its port always work. */
  readonly allowedHosts?: readonly string[];
  /**
   * Cluster workers (WORKERS > 1): the simulator talks to this worker on a private loopback port, so every
   * simulated session stays in the worker whose memory holds it (node:cluster balances connections, not
   * sessions), and trouble switches are shared with the other workers through `onTroubleChange`.
   */
  readonly clusterWorker?: {
    /** Called when an admin request changed the trouble settings here. */
    readonly onTroubleChange: (trouble: TroubleSettings) => void;
  };
  /** The in-process tracing (`startShopTracing()`), whose spans `/traces/<trace id>` shows. */
  readonly tracing?: ShopTracing;
  /** The order ledger: every sale and refund the shop records, as finance would keep it (ledger.ts). */
  readonly ledger?: ShopLedger;
}

export interface RunningShop {
  readonly url: string;
  readonly port: number;
  readonly app: Express;
  readonly sessions: SessionStore;
  readonly history: DashboardHistory;
  readonly simulator: TrafficSimulator | undefined;
  trouble: TroubleSettings;
  /**
   * Stop the simulator and refuse new orders and refunds (503) while every page and `/metrics` stay served: a
   * graceful stop drains first, then shuts telemetry down (the last scrape reads the final values), then `stop()`.
   */
  drain(): Promise<void>;
  /** Stop the simulator and jobs, end open sessions, close the server. Does not shut telemetry down. */
  stop(): Promise<void>;
}

interface Order {
  readonly id: string;
  readonly sessionId: string;
  /** In minor units of `currency`. */
  readonly totalCents: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly region: string;
  refundedCents: number;
}

const MAX_ORDERS_KEPT = 1000;

/**
 * Listens, or rejects with what to do: Express 5's app.listen() calls its callback on a listen error too, which
 * left a server without an address (`Cannot read properties of null (reading 'port')` with port 3000 taken).
 */
function listenOn(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const what =
        error.code === 'EADDRINUSE'
          ? `port ${port} is already in use on ${host}`
          : error.code === 'EACCES'
            ? `port ${port} needs privileges on ${host}`
            : `${where}: ${error.message}`;
      reject(
        new Error(
          `${what} (${error.code ?? 'listen error'}); choose another with PORT, e.g. PORT=3001 npm start`,
        ),
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

/** Build the shop and listen. */
export async function startShop(options: ShopOptions): Promise<RunningShop> {
  const { telemetry, assets } = options;
  const sessions = new SessionStore(options.sessions);
  const history = new DashboardHistory({
    // OpenMetrics: it carries the exemplars (trace ids) the time-to-conversion chart shows.
    read: () => telemetry.metrics.getMetrics('openmetrics'),
    sampleIntervalMs: options.dashboardSampleMs ?? 5000,
    // Snapshots taken with a trouble switch on stay out of revenue at risk's healthy baseline.
    troubleActive: () => {
      const trouble = state.trouble;
      return trouble.slowCheckoutMs > 0 || trouble.paymentFailureRate > 0 || trouble.brokenVariant !== null;
    },
  });
  const orders = new Map<string, Order>();
  const state = {
    trouble: options.trouble ?? NO_TROUBLE,
    simulator: undefined as TrafficSimulator | undefined,
    /** Draining: no new orders or refunds, so the final metrics and the ledger end on the same sale. */
    closing: false,
  };
  const refuseWhileClosing = (res: Response): boolean => {
    if (!state.closing) return false;
    res.status(503).set('retry-after', '30');
    page(res, 'Closing', views.errorPage('The shop is closing', 'Please try again in a minute.', '/'));
    return true;
  };

  const app = express();
  // The simulator (on loopback) sends X-Forwarded-For so every simulated shopper gets its own rate-limit bucket;
  // a real deployment would trust its reverse proxy here instead.
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  // First: everything a request does, business methods included, runs inside its span (exemplars).
  app.use(requestSpans());
  app.use(httpMetricsMiddleware({ telemetry }));
  // The port is known once listening (port 0 picks one), so the Host allow-list is read per request.
  let hosts: ReadonlySet<string> = new Set();
  const currentHosts = () => hosts;
  app.use(hostAllowList(currentHosts));
  const operatorCheck = options.operatorToken ? operatorTokenCheck(options.operatorToken) : undefined;
  const operator = requireOperator(operatorCheck);
  const sameOrigin = sameOriginOnly(currentHosts);

  app.get('/metrics', metricsMiddleware(telemetry, { auth: operatorCheck }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(
    '/api/engagement',
    engagementRouter({
      // Only the names the pages carry: anonymous junk names are refused instead of filling feature_name.
      features: views.SHOP_FEATURES,
      milestones: views.SHOP_MILESTONES,
      // What the server knows about the session wins over the browser's claims (tier, new user, entry page).
      resolveSession: (req, claimed) => {
        const session = sessions.find(req);
        return session
          ? { userTier: session.userTier, entryPage: session.entryPage, isNewUser: session.isNewUser }
          : { userTier: 'unknown', entryPage: 'unknown', isNewUser: claimed.isNewUser };
      },
    }),
  );

  for (const [name, source] of assets.scripts) {
    app.get(`/assets/${name}`, (_req, res) => {
      res.type('application/javascript').set('Cache-Control', 'no-cache').send(source);
    });
  }
  app.get('/assets/vendor/uPlot.iife.min.js', (_req, res) => res.sendFile(assets.uplotScript));
  app.get('/assets/vendor/uPlot.min.css', (_req, res) => res.sendFile(assets.uplotStyles));
  app.use('/assets', express.static(assets.publicDir, { fallthrough: false, index: false }));

  const forms = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 20 });
  const page = (res: Response, title: string, content: SafeHtml, extra: Partial<views.PageOptions> = {}) => {
    const session = res.locals.session as ShopSession | undefined;
    res
      .type('html')
      .send(
        views.layout(
          { title, session, cartCount: session ? cartItemCount(session.cart) : 0, ...extra },
          content,
        ),
      );
  };
  // Every request of a session counts its shopper as active today (distinct users per tier: trackActiveUser).
  const countActiveUser = activeUsersMiddleware({
    resolveUser: (_req, res) => {
      const session = res.locals.session as ShopSession | undefined;
      return session && { userId: session.userId, userTier: session.userTier };
    },
  });
  const withSession = (req: Request, res: Response, next: NextFunction) => {
    res.locals.session = sessions.sessionFor(req, res);
    countActiveUser(req, res, next);
  };
  const sessionOf = (res: Response): ShopSession => res.locals.session as ShopSession;
  const trackerFor = (session: ShopSession) =>
    new CheckoutTracker({
      sessionId: session.id,
      sessionStartTime: new Date(session.startedAt),
      source: session.context.source,
      deviceType: session.context.deviceType,
      experimentVariant: session.context.experimentVariant,
    });

  // ---- shop pages ------------------------------------------------------------------------------------------
  const categories = [...new Set(PRODUCTS.map((p) => p.category))];
  app.get('/', withSession, (req, res) => {
    const category =
      typeof req.query.category === 'string' && categories.includes(req.query.category)
        ? req.query.category
        : undefined;
    const shown = category ? PRODUCTS.filter((p) => p.category === category) : PRODUCTS;
    page(res, 'Shop', views.productListPage(shown, categories, category));
  });

  app.get('/product/:id', withSession, (req, res) => {
    const product = PRODUCTS_BY_ID.get(String(req.params.id));
    if (!product) {
      res.status(404);
      return page(res, 'Not found', views.errorPage('Not found', 'That product does not exist.', '/'));
    }
    page(res, product.name, views.productPage(product));
  });

  app.post('/cart/add', forms, withSession, (req, res) => {
    const product = PRODUCTS_BY_ID.get(String(req.body?.productId ?? ''));
    const quantity = Math.min(9, Math.max(1, Math.floor(Number(req.body?.quantity ?? 1)) || 1));
    if (!product) return void res.status(400).type('text/plain').send('unknown product\n');
    const cart = sessionOf(res).cart;
    cart.set(product.id, Math.min(20, (cart.get(product.id) ?? 0) + quantity));
    res.redirect(303, '/cart');
  });

  app.post('/cart/remove', forms, withSession, (req, res) => {
    sessionOf(res).cart.delete(String(req.body?.productId ?? ''));
    res.redirect(303, '/cart');
  });

  app.get('/cart', withSession, (req, res) => {
    const session = sessionOf(res);
    const lines = cartLines(session.cart);
    const total = cartTotalCents(session.cart);
    // An empty cart is not the start of a checkout: only carts with something in them enter the funnel.
    if (lines.length > 0) {
      trackerFor(session).trackCartView(total, cartItemCount(session.cart));
      session.viewedCart = true;
    }
    page(res, 'Cart', views.cartPage(lines, total));
  });

  // ---- checkout ----------------------------------------------------------------------------------------------
  const checkout = express.Router();
  checkout.use(async (_req, _res, next) => {
    const delay = state.trouble.slowCheckoutMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    next();
  });
  checkout.use(withSession, (req, res, next) => {
    if (sessionOf(res).cart.size === 0) return void res.redirect(303, '/cart');
    next();
  });
  checkout.get('/shipping', (req, res) => page(res, 'Shipping', views.shippingPage(sessionOf(res))));
  checkout.post('/shipping', forms, (req, res) => {
    const session = sessionOf(res);
    const name = String(req.body?.name ?? '')
      .trim()
      .slice(0, 80);
    const region = String(req.body?.region ?? '');
    if (!name || !REGIONS.some((r) => r.id === region)) {
      res.status(400);
      return page(
        res,
        'Shipping',
        views.errorPage('Check your address', 'Name and region are required.', '/checkout/shipping'),
      );
    }
    session.shipping = { name, region };
    trackerFor(session).trackShippingInfo();
    res.redirect(303, '/checkout/payment');
  });
  checkout.get('/payment', (req, res) => {
    if (!sessionOf(res).shipping) return void res.redirect(303, '/checkout/shipping');
    page(res, 'Payment', views.paymentPage(sessionOf(res)));
  });
  checkout.post('/payment', forms, (req, res) => {
    const session = sessionOf(res);
    const method = String(req.body?.method ?? '');
    if (!PAYMENT_METHODS.some((m) => m.id === method)) {
      res.status(400);
      return page(
        res,
        'Payment',
        views.errorPage('Choose a payment method', 'Pick one of the offered methods.', '/checkout/payment'),
      );
    }
    session.payment = { method };
    trackerFor(session).trackPaymentInfo(method);
    res.redirect(303, '/checkout/review');
  });
  checkout.get('/review', (req, res) => {
    const session = sessionOf(res);
    if (!session.shipping || !session.payment) return void res.redirect(303, '/checkout/shipping');
    trackerFor(session).trackOrderReview();
    page(res, 'Review', views.reviewPage(session, cartLines(session.cart), cartTotalCents(session.cart)));
  });
  checkout.post('/place', (req, res) => {
    if (refuseWhileClosing(res)) return;
    const session = sessionOf(res);
    if (!session.shipping || !session.payment) return void res.redirect(303, '/checkout/shipping');
    const tracker = trackerFor(session);
    const trouble = state.trouble;
    if (trouble.brokenVariant && session.context.experimentVariant === trouble.brokenVariant) {
      tracker.trackCheckoutError();
      res.status(500);
      return page(
        res,
        'Error',
        views.errorPage('Something went wrong', 'We could not place your order.', '/checkout/review'),
      );
    }
    if (trouble.paymentFailureRate > 0 && Math.random() < trouble.paymentFailureRate) {
      // The gateway said no: a decline, not an error of the shop's own (the error-cost rules tell them apart).
      tracker.trackPaymentDeclined();
      res.status(502);
      return page(
        res,
        'Payment declined',
        views.errorPage('Payment declined', 'The payment provider declined the payment.', '/checkout/review'),
      );
    }
    const total = cartTotalCents(session.cart);
    const currency = currencyOfRegion(session.shipping.region);
    const orderId = `ORD-${randomBytes(4).toString('hex').toUpperCase()}`;
    tracker.trackPurchaseComplete(
      total,
      primaryCategory(session.cart),
      session.payment.method,
      session.shipping.region,
      currency,
    );
    options.ledger?.record({
      kind: 'sale',
      amount: total,
      currency,
      orderId,
      region: session.shipping.region,
      paymentMethod: session.payment.method,
    });
    const order: Order = {
      id: orderId,
      sessionId: session.id,
      totalCents: total,
      currency,
      paymentMethod: session.payment.method,
      region: session.shipping.region,
      refundedCents: 0,
    };
    orders.set(order.id, order);
    if (orders.size > MAX_ORDERS_KEPT) orders.delete(orders.keys().next().value ?? '');
    // The session's outcome (SESSION_OUTCOME_STEPS): an order after a cart view.
    if (session.viewedCart) session.ordered = true;
    session.cart.clear();
    session.payment = undefined;
    res.redirect(303, `/order/${order.id}`);
  });
  app.use('/checkout', checkout);

  app.get('/order/:id', withSession, (req, res) => {
    const order = orders.get(String(req.params.id));
    const session = sessionOf(res);
    if (!order || order.sessionId !== session.id) {
      res.status(404);
      return page(res, 'Not found', views.errorPage('Not found', 'No such order in this session.', '/'));
    }
    page(
      res,
      'Thank you',
      views.confirmationPage(order.id, order.totalCents, order.currency, order.refundedCents),
      { milestone: session.isNewUser ? 'first_purchase' : undefined },
    );
  });

  // The refund flow: a shopper returns half an order (a partial refund) or all of it; `reason=chargeback`
  // stands in for the payment provider's dispute notification in this demo. Never more than the order's total.
  app.post('/order/:id/refund', withSession, forms, (req, res) => {
    if (refuseWhileClosing(res)) return;
    const order = orders.get(String(req.params.id));
    const session = sessionOf(res);
    if (!order || order.sessionId !== session.id) {
      res.status(404);
      return page(res, 'Not found', views.errorPage('Not found', 'No such order in this session.', '/'));
    }
    const reason = req.body?.reason === 'chargeback' ? 'chargeback' : 'customer_request';
    const wanted = req.body?.part === 'half' ? Math.floor(order.totalCents / 2) : order.totalCents;
    const amount = Math.min(wanted, order.totalCents - order.refundedCents);
    if (amount > 0) {
      order.refundedCents += amount;
      businessMetrics.recordRefund(amount, {
        currency: order.currency,
        paymentMethod: order.paymentMethod,
        region: order.region,
        reason,
      });
      options.ledger?.record({
        kind: 'refund',
        amount,
        currency: order.currency,
        orderId: order.id,
        region: order.region,
        paymentMethod: order.paymentMethod,
        reason,
      });
    }
    res.redirect(303, `/order/${order.id}`);
  });

  // ---- dashboard and admin -----------------------------------------------------------------------------------
  app.use(['/dashboard', '/admin', '/traces'], operator);
  app.use('/admin', (req, res, next) =>
    req.method === 'GET' || req.method === 'HEAD' ? next() : sameOrigin(req, res, next),
  );
  app.get('/dashboard', (req, res) => {
    page(res, 'Dashboard', views.dashboardPage(), {
      wide: true,
      scripts: ['/assets/vendor/uPlot.iife.min.js', '/assets/dashboard.js'],
      styles: ['/assets/vendor/uPlot.min.css'],
    });
  });
  app.get('/traces/:traceId', (req, res) => {
    const spans = options.tracing?.spans.trace(String(req.params.traceId)) ?? [];
    res.status(spans.length > 0 ? 200 : 404).json({ traceId: req.params.traceId, spans });
  });
  app.get('/dashboard/data', async (_req, res, next) => {
    try {
      res.set('Cache-Control', 'no-store').json({ ...(await history.data()), trouble: state.trouble });
    } catch (error) {
      next(error);
    }
  });

  const simulatorStatus = () => {
    const sim = state.simulator;
    if (!sim) return 'off';
    const stats = sim.getStats();
    return `on: ${stats.sessionsStarted} sessions, ${stats.orders} orders, ${stats.requests} requests so far`;
  };
  app.get('/admin', (req, res) =>
    page(res, 'Admin', views.adminPage(state.trouble, DEFAULT_EXPERIMENT_VARIANTS, simulatorStatus())),
  );
  app.get('/admin/trouble', (_req, res) => {
    res.json(state.trouble);
  });
  app.post('/admin/trouble', express.json({ limit: '2kb' }), forms, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      if (req.is('application/json')) {
        state.trouble = parseTrouble(body, state.trouble);
        options.clusterWorker?.onTroubleChange(state.trouble);
        return void res.json(state.trouble);
      }
      // The admin form: unchecked boxes are absent, so the form always describes the whole setting.
      state.trouble = parseTrouble({
        slowCheckoutMs: body.slowCheckout
          ? state.trouble.slowCheckoutMs || TROUBLE_PRESETS.slowCheckoutMs
          : 0,
        paymentFailureRate: body.paymentFailures
          ? state.trouble.paymentFailureRate || TROUBLE_PRESETS.paymentFailureRate
          : 0,
        brokenVariant: body.brokenVariant,
      });
      options.clusterWorker?.onTroubleChange(state.trouble);
      res.redirect(303, '/admin');
    } catch (error) {
      res.status(400).json({ error: (error as Error).message });
    }
  });

  // Malformed bodies and thrown errors answer JSON with a short message, never a stack trace or a file path.
  app.use(jsonErrors((error) => console.error('shop: request failed:', error)));

  // ---- listen and background jobs ----------------------------------------------------------------------------
  const host = options.host ?? '127.0.0.1';
  const server = await listenOn(app, host, options.port ?? 3000);
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port, options.allowedHosts);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const timers = [
    setInterval(
      () => sessions.sweep(),
      Math.min(5000, Math.max(100, (options.sessions?.idleMs ?? 120_000) / 4)),
    ),
  ];
  for (const timer of timers) timer.unref();
  history.start();

  let privateServer: Server | undefined;
  if (options.simulate) {
    const simOptions = typeof options.simulate === 'object' ? options.simulate : {};
    let baseUrl = url;
    if (options.clusterWorker) {
      privateServer = await listenOn(app, '127.0.0.1', 0);
      const privatePort = (privateServer.address() as AddressInfo).port;
      baseUrl = `http://127.0.0.1:${privatePort}`;
      // The simulator's requests carry this listener's Host; without it every simulated request was refused (421).
      hosts = allowedHosts(host, port, [...(options.allowedHosts ?? []), `127.0.0.1:${privatePort}`]);
    }
    state.simulator = new TrafficSimulator({ ...simOptions, baseUrl });
    state.simulator.start();
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    app,
    sessions,
    history,
    get simulator() {
      return state.simulator;
    },
    get trouble() {
      return state.trouble;
    },
    set trouble(value: TroubleSettings) {
      state.trouble = parseTrouble({ ...value });
    },
    async drain() {
      state.closing = true;
      await state.simulator?.stop();
    },
    stop() {
      stopped ??= (async () => {
        state.closing = true;
        await state.simulator?.stop();
        for (const timer of timers) clearInterval(timer);
        history.stop();
        sessions.endAll();
        await Promise.all(
          [server, privateServer].map((listening) => {
            if (listening === undefined) return undefined;
            const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
            listening.closeAllConnections();
            return closed;
          }),
        );
      })();
      return stopped;
    },
  };
}
