import { CheckoutTracker } from 'otel-business-metrics';
import { deriveSessionContext, withHttpMetrics } from 'otel-business-metrics/fetch';

// The seed's checkout funnel, one route per step: POST /api/checkout/cart, shipping, payment, review, complete.
export const POST = withHttpMetrics(
  '/api/checkout/[step]',
  async (request: Request, { params }: { params: Promise<{ step: string }> }) => {
    const { step } = await params;
    // In a real app, derive this once when the session starts and keep it in the session.
    const context = deriveSessionContext(request); // { source, deviceType, experimentVariant }
    const tracker = new CheckoutTracker({ ...context, sessionStartTime: new Date(Date.now() - 120_000) });
    const body = (await request.json().catch(() => ({}))) as Record<string, unknown>;
    if (step === 'cart') tracker.trackCartView(Number(body.cartValueCents), Number(body.itemCount));
    else if (step === 'shipping') tracker.trackShippingInfo();
    else if (step === 'payment') tracker.trackPaymentInfo(String(body.paymentMethod));
    else if (step === 'review') tracker.trackOrderReview();
    else if (step === 'complete') {
      const { orderValue, productCategory, paymentMethod, region } = body;
      tracker.trackPurchaseComplete(
        Number(orderValue),
        String(productCategory),
        String(paymentMethod),
        String(region),
      );
    } else return Response.json({ error: 'no such step' }, { status: 404 });
    return Response.json({ success: true });
  },
);
