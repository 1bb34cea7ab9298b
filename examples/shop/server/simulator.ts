/**
 * The traffic simulator: shoppers walking through the shop over real HTTP, so the dashboard and the alerts have
 * realistic data without real users.
 *
 * Owns: personas (source, device, region, experiment variant, tier, returning or new), their probabilities along
 * the funnel (about 3% of sessions order; about 3 in 10 cart views convert), their reactions to trouble (slow pages
 * and failed payments make them leave), and the request pacing. Must not touch: metrics directly: everything it
 * causes is recorded by the shop's own instrumentation, exactly as for a browser.
 */
import { PAYMENT_METHODS, PRODUCTS } from './products';

export interface SimulatorOptions {
  /** The shop's base URL, e.g. `http://127.0.0.1:3000`. */
  readonly baseUrl: string;
  /** New sessions started per second. Default 3 (about 5 orders a minute). */
  readonly sessionsPerSecond?: number;
  /** Multiplies every think time; 0.1 makes sessions ten times faster. Default 1. */
  readonly thinkScale?: number;
  /** Sessions in flight at most. Default 200. */
  readonly maxConcurrent?: number;
  /** Random source (tests). Default Math.random. */
  readonly random?: () => number;
  /**
   * A step slower than this makes half the shoppers give up, as real ones do when checkout is slow. Default
   * 2000 ms. Tests that check funnel figures pass Infinity, so a slow machine does not change their conversion.
   */
  readonly patienceMs?: number;
}

export interface SimulatorStats {
  readonly sessionsStarted: number;
  readonly sessionsFinished: number;
  readonly orders: number;
  readonly requests: number;
  readonly failedRequests: number;
  /** Sessions cut short by a request that threw (a reset connection, or stop() aborting them). */
  readonly sessionErrors: number;
}

type Weighted<T> = readonly (readonly [T, number])[];

interface Persona {
  readonly ip: string;
  readonly userAgent: string;
  readonly headers: Record<string, string>;
  readonly landingQuery: string;
  readonly region: string;
  readonly variant: string;
  readonly tier: string;
  readonly returningUid: string | undefined;
  readonly isBot: boolean;
  /** Multiplies the funnel probabilities (mobile and social traffic convert worse). */
  readonly propensity: number;
}

const USER_AGENTS = {
  desktop:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  mobile:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  tablet:
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  bot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
} as const;

/** How a persona arrives: a utm_source, a referrer, or nothing (direct). */
const ARRIVALS: Weighted<{ utm?: string; referer?: string; propensity: number }> = [
  [{ propensity: 1.1 }, 30],
  [{ referer: 'https://www.google.com/search?q=trail+shoes', propensity: 1.0 }, 22],
  [{ utm: 'google_ads', propensity: 0.9 }, 8],
  [{ utm: 'facebook', propensity: 0.6 }, 8],
  [{ referer: 'https://l.instagram.com/', propensity: 0.6 }, 5],
  [{ utm: 'newsletter', propensity: 1.6 }, 8],
  [{ referer: 'https://www.bing.com/search?q=headlamp', propensity: 1.0 }, 5],
  [{ referer: 'https://t.co/xyz', propensity: 0.5 }, 4],
  [{ referer: 'https://blog.example.org/best-gear-2026', propensity: 1.2 }, 7],
  [{ utm: 'partner', propensity: 1.0 }, 3],
];
const DEVICES: Weighted<'desktop' | 'mobile' | 'tablet'> = [
  ['desktop', 45],
  ['mobile', 45],
  ['tablet', 10],
];
const DEVICE_PROPENSITY = { desktop: 1.2, mobile: 0.8, tablet: 1.0 } as const;
const REGION_WEIGHTS: Weighted<string> = [
  ['us_east', 28],
  ['us_west', 20],
  ['eu_west', 20],
  ['eu_central', 14],
  ['apac', 12],
  ['latam', 6],
];
const VARIANTS: Weighted<string> = [
  ['control', 50],
  ['A', 25],
  ['B', 25],
];
const VARIANT_PROPENSITY: Record<string, number> = { control: 1, A: 1.15, B: 0.95 };
const TIERS: Weighted<string> = [
  ['free', 70],
  ['pro', 25],
  ['enterprise', 5],
];

/** Probability of moving on from each stage, before the persona's propensity is applied. */
const FUNNEL = {
  viewProduct: 0.65,
  addToCart: 0.13,
  viewCart: 0.9,
  startCheckout: 0.5,
  enterPayment: 0.78,
  review: 0.88,
  placeOrder: 0.85,
} as const;
/** After an order: some shoppers return half of it (a partial refund), a few orders end in a chargeback. */
const AFTER_ORDER = { partialRefund: 0.05, chargeback: 0.01 } as const;
/** A page slower than this makes simulated shoppers likely to give up. */
const PATIENCE_MS = 2000;

export class TrafficSimulator {
  private readonly baseUrl: string;
  private readonly sessionsPerSecond: number;
  private readonly thinkScale: number;
  private readonly maxConcurrent: number;
  private readonly random: () => number;
  // One controller per session, not one shared signal: fetch leaves a listener on the signal it is given, and a
  // shared signal would collect thousands of them over a long run.
  private readonly controllers = new Set<AbortController>();
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly returningPool: { uid: string; tier: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly patienceMs: number;
  private stats = {
    sessionsStarted: 0,
    sessionsFinished: 0,
    orders: 0,
    requests: 0,
    failedRequests: 0,
    sessionErrors: 0,
  };

  constructor(options: SimulatorOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.sessionsPerSecond = Math.max(0.01, options.sessionsPerSecond ?? 3);
    this.thinkScale = Math.max(0, options.thinkScale ?? 1);
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 200);
    this.random = options.random ?? Math.random;
    this.patienceMs = options.patienceMs ?? PATIENCE_MS;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  getStats(): SimulatorStats {
    return { ...this.stats };
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    const tickMs = 100;
    let owed = 0;
    this.timer = setInterval(() => {
      owed += (this.sessionsPerSecond * tickMs) / 1000;
      while (owed >= 1) {
        owed -= 1;
        if (this.inFlight.size >= this.maxConcurrent) continue;
        const run = this.runSession().catch(() => void this.stats.sessionErrors++);
        const tracked = run.finally(() => this.inFlight.delete(tracked));
        this.inFlight.add(tracked);
      }
    }, tickMs);
    this.timer.unref();
  }

  /** Stop starting sessions, abort those in flight, and wait for them to unwind. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    for (const controller of this.controllers) controller.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private pick<T>(options: Weighted<T>): T {
    const total = options.reduce((sum, [, w]) => sum + w, 0);
    let r = this.random() * total;
    for (const [value, weight] of options) {
      r -= weight;
      if (r < 0) return value;
    }
    return options[options.length - 1]![0];
  }

  private chance(p: number): boolean {
    return this.random() < Math.min(1, Math.max(0, p));
  }

  private persona(): Persona {
    const isBot = this.chance(0.03);
    const device = this.pick(DEVICES);
    const arrival = this.pick(ARRIVALS);
    const variant = this.pick(VARIANTS);
    const returning = this.returningPool.length > 20 && this.chance(0.35);
    const known = returning
      ? this.returningPool[Math.floor(this.random() * this.returningPool.length)]
      : undefined;
    const tier = known?.tier ?? this.pick(TIERS);
    const headers: Record<string, string> = {};
    if (arrival.referer) headers.referer = arrival.referer;
    return {
      // Documentation address ranges: the shop trusts X-Forwarded-For from loopback, so each shopper gets its
      // own rate-limit bucket, as real clients behind a proxy would.
      ip: `198.51.100.${1 + Math.floor(this.random() * 254)}`,
      userAgent: isBot ? USER_AGENTS.bot : USER_AGENTS[device],
      headers,
      landingQuery: arrival.utm ? `?utm_source=${arrival.utm}&utm_medium=sim` : '',
      region: this.pick(REGION_WEIGHTS),
      variant,
      tier,
      returningUid: known?.uid,
      isBot,
      propensity:
        arrival.propensity *
        DEVICE_PROPENSITY[device] *
        (VARIANT_PROPENSITY[variant] ?? 1) *
        (returning ? 1.3 : 1),
    };
  }

  private async think(signal: AbortSignal, minMs: number, maxMs: number): Promise<void> {
    const ms = (minMs + this.random() * (maxMs - minMs)) * this.thinkScale;
    if (ms <= 0) return;
    if (signal.aborted) throw new Error('stopped');
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Error('stopped'));
      };
      // The listener goes when the wait ends: hundreds of sessions think at once, each many times.
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async runSession(): Promise<void> {
    if (this.stopped) return;
    const controller = new AbortController();
    this.controllers.add(controller);
    try {
      await this.walk(controller.signal);
    } finally {
      this.controllers.delete(controller);
    }
  }

  private async walk(signal: AbortSignal): Promise<void> {
    this.stats.sessionsStarted++;
    const persona = this.persona();
    const jar = new Map<string, string>([
      ['experiment_variant', persona.variant],
      ['user_tier', persona.tier],
    ]);
    if (persona.returningUid) jar.set('uid', persona.returningUid);
    const engagement: { kind: 'feature' | 'milestone'; name: string }[] = [];
    const request = async (
      method: 'GET' | 'POST',
      path: string,
      body?: Record<string, string>,
      extraHeaders: Record<string, string> = {},
    ): Promise<{ status: number; ms: number; location: string | null }> => {
      const started = Date.now();
      this.stats.requests++;
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        redirect: 'manual',
        signal,
        headers: {
          'user-agent': persona.userAgent,
          'x-forwarded-for': persona.ip,
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...extraHeaders,
        },
        body: body ? new URLSearchParams(body).toString() : undefined,
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(';');
        const eq = pair?.indexOf('=') ?? -1;
        if (pair && eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      await response.arrayBuffer();
      if (response.status >= 500) this.stats.failedRequests++;
      return {
        status: response.status,
        ms: Date.now() - started,
        location: response.headers.get('location'),
      };
    };
    const impatient = (ms: number) => ms > this.patienceMs && this.chance(0.5);
    const p = (base: number) => base * persona.propensity;

    try {
      await request('GET', `/${persona.landingQuery}`, undefined, persona.headers);
      if (!persona.isBot && this.chance(0.3)) engagement.push({ kind: 'feature', name: 'search' });
      if (!persona.isBot && this.chance(0.2)) engagement.push({ kind: 'feature', name: 'category_filter' });
      if (!this.chance(persona.isBot ? 0.9 : FUNNEL.viewProduct)) return;
      const product = PRODUCTS[Math.floor(this.random() * PRODUCTS.length)]!;
      await this.think(signal, 800, 4000);
      await request('GET', `/product/${product.id}`);
      if (persona.isBot) return;
      if (this.chance(0.12)) engagement.push({ kind: 'feature', name: 'wishlist' });
      if (this.chance(0.1)) engagement.push({ kind: 'feature', name: 'product_zoom' });
      if (product.category === 'apparel' && this.chance(0.3))
        engagement.push({ kind: 'feature', name: 'size_guide' });
      if (!this.chance(p(FUNNEL.addToCart))) return;
      await this.think(signal, 1000, 5000);
      const quantity = this.chance(0.2) ? '2' : '1';
      await request('POST', '/cart/add', { productId: product.id, quantity });
      if (this.chance(0.25)) {
        const extra = PRODUCTS[Math.floor(this.random() * PRODUCTS.length)]!;
        await this.think(signal, 500, 2000);
        await request('POST', '/cart/add', { productId: extra.id, quantity: '1' });
      }
      if (!this.chance(FUNNEL.viewCart)) return;
      await request('GET', '/cart');
      if (this.chance(0.1)) engagement.push({ kind: 'feature', name: 'apply_coupon' });
      if (!this.chance(p(FUNNEL.startCheckout))) return;
      await this.think(signal, 1000, 4000);
      let step = await request('GET', '/checkout/shipping');
      if (impatient(step.ms)) return;
      await this.think(signal, 2000, 6000);
      step = await request('POST', '/checkout/shipping', { name: 'Sim Shopper', region: persona.region });
      if (impatient(step.ms) || !this.chance(FUNNEL.enterPayment)) return;
      const method = this.pick<string>(
        PAYMENT_METHODS.map((m, i) => [m.id, [55, 25, 15, 5][i] ?? 5] as const),
      );
      await this.think(signal, 1500, 5000);
      step = await request('POST', '/checkout/payment', { method });
      if (impatient(step.ms) || !this.chance(FUNNEL.review)) return;
      step = await request('GET', '/checkout/review');
      if (impatient(step.ms) || !this.chance(FUNNEL.placeOrder)) return;
      await this.think(signal, 1000, 3000);
      let placed = await request('POST', '/checkout/place');
      if (placed.status === 502 && this.chance(0.5)) {
        // A declined payment: some shoppers try once more.
        await this.think(signal, 1000, 3000);
        placed = await request('POST', '/checkout/place');
      }
      if (placed.status === 303 && placed.location) {
        this.stats.orders++;
        await request('GET', placed.location);
        if (this.chance(AFTER_ORDER.partialRefund)) {
          await request('POST', `${placed.location}/refund`, { part: 'half' });
        } else if (this.chance(AFTER_ORDER.chargeback)) {
          await request('POST', `${placed.location}/refund`, { reason: 'chargeback' });
        }
        if (!persona.returningUid) engagement.push({ kind: 'milestone', name: 'first_purchase' });
        const uid = jar.get('uid');
        if (uid && this.returningPool.length < 500) this.returningPool.push({ uid, tier: persona.tier });
      }
    } finally {
      if (engagement.length > 0 && !signal.aborted) {
        await this.sendEngagement(signal, persona, jar, engagement).catch(() => undefined);
      }
      this.stats.sessionsFinished++;
    }
  }

  /** What the browser client would send: one JSON batch, like `navigator.sendBeacon` on the last page. */
  private async sendEngagement(
    signal: AbortSignal,
    persona: Persona,
    jar: ReadonlyMap<string, string>,
    events: readonly { kind: 'feature' | 'milestone'; name: string }[],
  ): Promise<void> {
    this.stats.requests++;
    const response = await fetch(`${this.baseUrl}/api/engagement`, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': persona.userAgent,
        'x-forwarded-for': persona.ip,
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: JSON.stringify({
        session: { userTier: persona.tier, entryPage: '/', isNewUser: !persona.returningUid },
        events: events.slice(0, 50),
      }),
    });
    await response.arrayBuffer();
  }
}
