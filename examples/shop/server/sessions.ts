/**
 * The shop's in-memory sessions and the user registry behind the active-users gauge.
 *
 * Owns: session and user lifetimes (cookies, idle expiry, bounded size) and ending sessions server-side: a
 * multi-page shop sees `pagehide` on every navigation, so the session's end is when it goes idle. Must not touch:
 * checkout logic or HTTP routing.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { businessMetrics, EngagementTracker } from '../../../src';
import {
  deriveSessionContext,
  readCookie,
  type DerivedSessionContext,
} from '../../../src/integrations/express';

export const USER_TIERS = ['free', 'pro', 'enterprise'] as const;
export type ShopUserTier = (typeof USER_TIERS)[number];

export interface ShopSession {
  readonly id: string;
  readonly userId: string;
  readonly startedAt: number;
  lastSeen: number;
  readonly context: DerivedSessionContext;
  readonly userTier: ShopUserTier;
  readonly isNewUser: boolean;
  /** Route pattern of the first page of the session (the `entry_page` label). */
  readonly entryPage: string;
  readonly cart: Map<string, number>;
  shipping?: { readonly name: string; readonly region: string };
  payment?: { readonly method: string };
  /** It viewed a cart with something in it. */
  viewedCart: boolean;
  /** It placed an order after viewing a cart. */
  ordered: boolean;
}

/**
 * Funnel steps a session records when it ends, both in one call: every ended session that viewed a non-empty
 * cart counts in `session_with_cart`, and those of them that then placed an order in `session_with_order` too.
 * Between any two readings of the counters the second therefore grows by no more than the first, so the
 * dashboard's cart-to-order conversion (their ratio over a window) never exceeds 100%, whatever the window and
 * the traffic; `order_confirmed` over `cart_view` in one window does, when carts viewed before the window are
 * ordered inside it.
 */
export const SESSION_OUTCOME_STEPS = {
  withCart: 'session_with_cart',
  withOrder: 'session_with_order',
} as const;

export interface SessionStoreOptions {
  /** A session with no request for this long has ended. Default 2 minutes (the demo's time runs fast). */
  readonly idleMs?: number;
  /** Sessions kept at most; the least recently seen are ended first. Default 20000. */
  readonly maxSessions?: number;
  /** Users remembered for the active-users windows at most. Default 100000. */
  readonly maxUsers?: number;
}

interface UserRecord {
  tier: ShopUserTier;
  lastSeen: number;
}

const DAY_MS = 86_400_000;
export const ACTIVE_USER_WINDOWS = { daily: DAY_MS, weekly: 7 * DAY_MS, monthly: 30 * DAY_MS } as const;

/** Route pattern of a path, so `entry_page` stays a handful of values. */
export function entryPageOf(path: string): string {
  if (path === '/') return '/';
  if (path.startsWith('/product/')) return '/product/:id';
  if (path === '/cart') return '/cart';
  if (path.startsWith('/checkout/')) return '/checkout';
  return '/other';
}

export class SessionStore {
  private readonly sessions = new Map<string, ShopSession>();
  private readonly users = new Map<string, UserRecord>();
  private readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly maxUsers: number;
  private endedCount = 0;

  constructor(options: SessionStoreOptions = {}) {
    this.idleMs = options.idleMs ?? 120_000;
    this.maxSessions = options.maxSessions ?? 20_000;
    this.maxUsers = options.maxUsers ?? 100_000;
  }

  /** The request's live session, if it has one (never creates one: for requests that must not start a session). */
  find(req: Request, now = Date.now()): ShopSession | undefined {
    const sid = readCookie(req, 'sid');
    const session = sid ? this.sessions.get(sid) : undefined;
    return session && now - session.lastSeen < this.idleMs ? session : undefined;
  }

  /** The request's session, creating one (and its cookies) when the request has none or it expired. */
  sessionFor(req: Request, res: Response, now = Date.now()): ShopSession {
    const sid = readCookie(req, 'sid');
    const existing = sid ? this.sessions.get(sid) : undefined;
    if (existing && now - existing.lastSeen < this.idleMs) {
      existing.lastSeen = now;
      this.touchUser(existing.userId, existing.userTier, now);
      // Move to the end: the Map's first entry is the least recently seen session.
      this.sessions.delete(existing.id);
      this.sessions.set(existing.id, existing);
      return existing;
    }
    if (existing) this.end(existing);
    return this.create(req, res, now);
  }

  private create(req: Request, res: Response, now: number): ShopSession {
    const knownUser = readCookie(req, 'uid');
    const userId =
      knownUser && /^[a-f0-9]{16,32}$/.test(knownUser) ? knownUser : randomBytes(12).toString('hex');
    const tierCookie = readCookie(req, 'user_tier');
    const userTier = (USER_TIERS as readonly string[]).includes(tierCookie ?? '')
      ? (tierCookie as ShopUserTier)
      : 'free';
    const session: ShopSession = {
      id: randomBytes(16).toString('hex'),
      userId,
      startedAt: now,
      lastSeen: now,
      context: deriveSessionContext(req),
      userTier,
      isNewUser: userId !== knownUser,
      entryPage: entryPageOf(req.path),
      cart: new Map(),
      viewedCart: false,
      ordered: false,
    };
    this.sessions.set(session.id, session);
    this.touchUser(userId, userTier, now);
    res.cookie('sid', session.id, { httpOnly: true, sameSite: 'lax', path: '/' });
    res.cookie('uid', userId, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 365 * DAY_MS });
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.values().next().value;
      if (!oldest) break;
      this.end(oldest);
    }
    return session;
  }

  private touchUser(userId: string, tier: ShopUserTier, now: number): void {
    this.users.delete(userId);
    this.users.set(userId, { tier, lastSeen: now });
    if (this.users.size > this.maxUsers) {
      const oldest = this.users.keys().next().value;
      if (oldest !== undefined) this.users.delete(oldest);
    }
  }

  /**
   * End the session: its duration (start to last request, not to now) goes into the session histogram, its
   * outcome into SESSION_OUTCOME_STEPS.
   */
  private end(session: ShopSession): void {
    if (!this.sessions.delete(session.id)) return;
    this.endedCount++;
    const activeMs = session.lastSeen - session.startedAt;
    new EngagementTracker({
      userTier: session.userTier,
      entryPage: session.entryPage,
      isNewUser: session.isNewUser,
      sessionStartTime: new Date(Date.now() - activeMs),
    }).endSession();
    if (session.viewedCart) {
      const { source, deviceType, experimentVariant } = session.context;
      businessMetrics.recordFunnelStep(SESSION_OUTCOME_STEPS.withCart, {
        source,
        deviceType,
        experimentVariant,
      });
      if (session.ordered) {
        businessMetrics.recordFunnelStep(SESSION_OUTCOME_STEPS.withOrder, {
          source,
          deviceType,
          experimentVariant,
        });
      }
    }
  }

  /** End every session idle for longer than the idle timeout. Returns how many ended. */
  sweep(now = Date.now()): number {
    let ended = 0;
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastSeen < this.idleMs) break; // ordered by lastSeen: the rest are fresher
      this.end(session);
      ended++;
    }
    return ended;
  }

  /** End all sessions (shutdown). */
  endAll(): void {
    for (const session of [...this.sessions.values()]) this.end(session);
  }

  /** Users seen within `windowMs`, by tier (every tier present, zeros included). */
  activeUsers(windowMs: number, now = Date.now()): Map<string, number> {
    const counts = new Map<string, number>(USER_TIERS.map((tier) => [tier, 0]));
    for (const user of this.users.values()) {
      if (now - user.lastSeen <= windowMs) counts.set(user.tier, (counts.get(user.tier) ?? 0) + 1);
    }
    return counts;
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  get endedSessions(): number {
    return this.endedCount;
  }
}
