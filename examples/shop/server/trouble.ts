/**
 * Trouble switches: faults the shop injects on purpose so the business alerts and the dashboard have something to
 * show (a slow checkout, a failing payment gateway, a broken experiment variant).
 *
 * Owns: the current settings, their parsing from environment variables and admin requests. Must not touch:
 * metrics or routes (the app consults the settings).
 */

export interface TroubleSettings {
  /** Extra latency added to every checkout request, in milliseconds (0: off). */
  readonly slowCheckoutMs: number;
  /** Share of order placements the payment gateway declines, 0..1 (0: off). */
  readonly paymentFailureRate: number;
  /** Experiment variant whose order placement fails with a 500 (null: none). */
  readonly brokenVariant: string | null;
}

export const NO_TROUBLE: TroubleSettings = { slowCheckoutMs: 0, paymentFailureRate: 0, brokenVariant: null };

/** What the admin page's switches turn on. */
export const TROUBLE_PRESETS = { slowCheckoutMs: 2500, paymentFailureRate: 0.85 } as const;

const VARIANT_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Read settings from the environment: `TROUBLE_SLOW_CHECKOUT` (`1` or milliseconds), `TROUBLE_PAYMENT_FAILURES`
 * (`1` or a rate such as `0.5`), `TROUBLE_BROKEN_VARIANT` (a variant name such as `B`).
 */
export function troubleFromEnv(env: Readonly<Record<string, string | undefined>>): TroubleSettings {
  return parseTrouble({
    slowCheckoutMs: switchValue(env.TROUBLE_SLOW_CHECKOUT, TROUBLE_PRESETS.slowCheckoutMs),
    paymentFailureRate: switchValue(env.TROUBLE_PAYMENT_FAILURES, TROUBLE_PRESETS.paymentFailureRate),
    brokenVariant: env.TROUBLE_BROKEN_VARIANT || null,
  });
}

function switchValue(raw: string | undefined, preset: number): number {
  if (raw === undefined || raw === '' || raw === '0' || raw.toLowerCase() === 'false') return 0;
  if (raw === '1' || raw.toLowerCase() === 'true') return preset;
  return Number(raw);
}

/** Validate settings from any source; throws a TypeError naming the bad field. */
export function parseTrouble(
  input: Record<string, unknown>,
  base: TroubleSettings = NO_TROUBLE,
): TroubleSettings {
  const slowCheckoutMs =
    input.slowCheckoutMs === undefined ? base.slowCheckoutMs : Number(input.slowCheckoutMs);
  if (!Number.isFinite(slowCheckoutMs) || slowCheckoutMs < 0 || slowCheckoutMs > 30_000) {
    throw new TypeError('slowCheckoutMs must be between 0 and 30000');
  }
  const paymentFailureRate =
    input.paymentFailureRate === undefined ? base.paymentFailureRate : Number(input.paymentFailureRate);
  if (!Number.isFinite(paymentFailureRate) || paymentFailureRate < 0 || paymentFailureRate > 1) {
    throw new TypeError('paymentFailureRate must be between 0 and 1');
  }
  let brokenVariant = base.brokenVariant;
  if (input.brokenVariant !== undefined) {
    const raw = input.brokenVariant;
    if (raw === null || raw === '' || raw === 'none') brokenVariant = null;
    else if (typeof raw === 'string' && VARIANT_PATTERN.test(raw)) brokenVariant = raw;
    else throw new TypeError('brokenVariant must be a variant name or null');
  }
  return { slowCheckoutMs: Math.round(slowCheckoutMs), paymentFailureRate, brokenVariant };
}
