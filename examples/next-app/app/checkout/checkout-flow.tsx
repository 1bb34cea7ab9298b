'use client';

import { useState } from 'react';
import type { Product } from '../../lib/products';

const STEPS = ['cart', 'shipping', 'payment', 'review', 'complete'] as const;
const LABELS = ['View cart', 'Enter shipping', 'Enter payment', 'Review order', 'Place order'];

// Each step posts to app/api/checkout/[step]/route.ts, which records the seed's funnel step.
export function CheckoutFlow({ product }: { product: Product }) {
  const [step, setStep] = useState(0);
  const next = async () => {
    const body = {
      cartValueCents: product.priceCents,
      itemCount: 1,
      paymentMethod: 'card',
      orderValue: product.priceCents,
      productCategory: product.category,
      region: 'eu_west',
    };
    await fetch(`/api/checkout/${STEPS[step]}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    setStep(step + 1);
  };
  if (step === STEPS.length) return <p id="confirmed">Order confirmed: {product.name}</p>;
  return (
    <button type="button" id="next-step" onClick={next}>
      {LABELS[step]}
    </button>
  );
}
