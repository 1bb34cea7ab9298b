/**
 * The seed's checkout funnel tracker: one instance per checkout session, recording each funnel step through the
 * `businessMetrics` singleton.
 *
 * Owns: the mapping from checkout events to funnel steps, conversions and revenue. Must not touch: instruments,
 * label policies or exporters (the core owns those), and must not log: the seed's `console.log` of cart contents is
 * deliberately gone (cart contents are neither a metric nor something a library should print).
 */
import { CHECKOUT_STEPS } from '../catalog';
import type { ConversionMetadata, FunnelStepMetadata } from '../metrics/business-metrics';
import { businessMetrics } from '../metrics/singleton';

type CatalogCheckoutStep = (typeof CHECKOUT_STEPS)[number];

/**
 * The steps of the checkout funnel, in funnel order, plus the error step. Values are the catalog's
 * `CHECKOUT_STEPS`; the member names are the seed's enum names, so `CheckoutStep.CART_VIEW` keeps working.
 */
export const CheckoutStep = {
  CART_VIEW: 'cart_view',
  SHIPPING_INFO: 'shipping_info',
  PAYMENT_INFO: 'payment_info',
  ORDER_REVIEW: 'order_review',
  ORDER_CONFIRMED: 'order_confirmed',
  CHECKOUT_ERROR: 'checkout_error',
  PAYMENT_DECLINED: 'payment_declined',
} as const satisfies Record<string, CatalogCheckoutStep>;

/** One of the funnel step values (`'cart_view'`, ...). */
export type CheckoutStep = (typeof CheckoutStep)[keyof typeof CheckoutStep];

// Compile-time proof that the enum above and the catalog list the same steps: adding a step to the catalog
// without adding it here (or the other way round) fails the type check.
type MissingFromEnum = Exclude<CatalogCheckoutStep, CheckoutStep>;
const _everyCatalogStepIsInTheEnum: MissingFromEnum extends never ? true : never = true;
void _everyCatalogStepIsInTheEnum;

/** Device classes the seed's checkout context distinguishes (`bot` and `unknown` come from header derivation). */
export type CheckoutDeviceType = 'mobile' | 'desktop' | 'tablet' | 'bot' | 'unknown';

/** What the checkout tracker needs to know about the session it tracks (the seed's `SessionContext`). */
export interface SessionContext {
  /** Your session id. Never recorded as a label (it would explode cardinality); kept for your own correlation. */
  readonly sessionId?: string;
  /** When the session started; the conversion's time-to-convert is measured from here. */
  readonly sessionStartTime: Date;
  /** Traffic source (`direct`, `google`, ...). Derive it with `deriveSessionContext` from the Express integration. */
  readonly source: string;
  readonly deviceType: CheckoutDeviceType | string;
  /** Experiment variant; the seed's default `control` applies when missing. */
  readonly experimentVariant?: string;
}

/**
 * Tracks one session's progress through the checkout funnel (the seed's `CheckoutTracker`).
 *
 * Every method is safe to call before `initBusinessMetrics` (the singleton is a no-op until then) and never throws
 * for bad input: invalid values are dropped or relabelled by the core's guard.
 */
export class CheckoutTracker {
  private readonly context: SessionContext;

  constructor(context: SessionContext) {
    this.context = context;
    // Bound once per tracker: apps hand its methods to event handlers and callbacks
    // (`form.on('submit', tracker.trackShippingInfo)`), and such a detached call must record, not throw a
    // TypeError from `this` being undefined.
    this.trackCartView = this.trackCartView.bind(this);
    this.trackShippingInfo = this.trackShippingInfo.bind(this);
    this.trackPaymentInfo = this.trackPaymentInfo.bind(this);
    this.trackOrderReview = this.trackOrderReview.bind(this);
    this.trackPurchaseComplete = this.trackPurchaseComplete.bind(this);
    this.trackCheckoutError = this.trackCheckoutError.bind(this);
    this.trackPaymentDeclined = this.trackPaymentDeclined.bind(this);
  }

  /**
   * Labels read from the session context; undefined when it cannot be read (missing, not an object, a getter that
   * throws: an expired session object), which the core drops and counts (`invalid_argument`, a TypeError in strict
   * mode) like any metadata that is not an object.
   */
  private labels<T>(read: (context: SessionContext) => T): T | undefined {
    try {
      return read(this.context);
    } catch {
      return undefined;
    }
  }

  /** The funnel labels every step of this session carries. */
  private stepLabels(): FunnelStepMetadata | undefined {
    return this.labels((context) => ({
      source: context.source,
      deviceType: context.deviceType,
      experimentVariant: context.experimentVariant || 'control',
    }));
  }

  private recordStep(step: CheckoutStep): void {
    businessMetrics.recordFunnelStep(step, this.stepLabels() as FunnelStepMetadata);
  }

  /**
   * The user viewed their cart: the entry point of the funnel. `cartValueCents` and `itemCount` are accepted for
   * compatibility with the seed's signature; the seed printed them with `console.log`, which this package does not.
   */
  trackCartView(_cartValueCents?: number, _itemCount?: number): void {
    this.recordStep(CheckoutStep.CART_VIEW);
  }

  /** Shipping information entered. High drop-off here often points at form friction. */
  trackShippingInfo(): void {
    this.recordStep(CheckoutStep.SHIPPING_INFO);
  }

  /**
   * Payment information entered. The payment method is recorded with the revenue at purchase time (as in the
   * seed), not on the funnel step, so the funnel keeps the seed's four labels.
   */
  trackPaymentInfo(_paymentMethod?: string): void {
    this.recordStep(CheckoutStep.PAYMENT_INFO);
  }

  /** The order review page was reached; users here are highly likely to convert. */
  trackOrderReview(): void {
    this.recordStep(CheckoutStep.ORDER_REVIEW);
  }

  /**
   * The purchase completed: records the revenue (`orderValueCents` in minor units of `currency`, also observed in
   * the order value histogram), a `purchase` conversion (with the time since `sessionStartTime`) and the
   * `order_confirmed` step. Without `currency` (the seed's call) the configured default currency is used. The
   * revenue goes first: in strict mode a refused amount throws before the step and the conversion are recorded,
   * so a `catch` that records {@link trackCheckoutError} does not leave the attempt counted as confirmed too.
   * Otherwise a refused amount is dropped and counted, and the purchase still counts as a conversion.
   */
  trackPurchaseComplete(
    orderValueCents: number,
    productCategory: string,
    paymentMethod: string,
    region: string,
    currency?: string,
  ): void {
    businessMetrics.recordRevenue(orderValueCents, { productCategory, paymentMethod, region, currency });
    businessMetrics.recordConversion(
      'purchase',
      this.labels((context) => ({
        source: context.source,
        deviceType: context.deviceType,
        sessionStartTime: context.sessionStartTime,
      })) as ConversionMetadata,
    );
    this.recordStep(CheckoutStep.ORDER_CONFIRMED);
  }

  /**
   * The checkout failed (order service down, an exception, ...): the seed's `checkout_error` step. The seed also
   * used it for declined payments; record those with {@link trackPaymentDeclined} to tell them apart.
   */
  trackCheckoutError(): void {
    this.recordStep(CheckoutStep.CHECKOUT_ERROR);
  }

  /**
   * The payment provider declined the payment (`payment_declined` step). Record one failed attempt once, with
   * this or {@link trackCheckoutError}, not both: the error-cost rules add the two steps together.
   */
  trackPaymentDeclined(): void {
    this.recordStep(CheckoutStep.PAYMENT_DECLINED);
  }
}
