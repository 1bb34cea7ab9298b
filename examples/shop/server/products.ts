/**
 * The demo shop's catalogue and order arithmetic.
 *
 * Owns: products, prices (in cents), regions and payment methods offered, the currency of each region, cart
 * totals. Must not touch: metrics, HTTP, sessions.
 */
import { minorToUnits } from '../../../src';

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly priceCents: number;
  readonly blurb: string;
  /** Accent colour of the product tile (the shop has no images). */
  readonly hue: number;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 'trail-runner',
    name: 'Trail Runner Shoes',
    category: 'apparel',
    priceCents: 8900,
    blurb: 'Grippy, light, waterproof.',
    hue: 12,
  },
  {
    id: 'merino-hoodie',
    name: 'Merino Hoodie',
    category: 'apparel',
    priceCents: 6400,
    blurb: 'Warm without the bulk.',
    hue: 340,
  },
  {
    id: 'noise-cancel',
    name: 'Noise-Cancelling Headphones',
    category: 'electronics',
    priceCents: 19900,
    blurb: '30 h of quiet.',
    hue: 220,
  },
  {
    id: 'e-reader',
    name: 'Paperwhite E-Reader',
    category: 'electronics',
    priceCents: 12900,
    blurb: 'A library in your pocket.',
    hue: 200,
  },
  {
    id: 'usb-hub',
    name: '7-Port USB-C Hub',
    category: 'electronics',
    priceCents: 3900,
    blurb: 'Every port you forgot.',
    hue: 250,
  },
  {
    id: 'sre-book',
    name: 'Site Reliability Engineering',
    category: 'books',
    priceCents: 4200,
    blurb: 'The classic, in paperback.',
    hue: 140,
  },
  {
    id: 'metrics-book',
    name: 'Measuring What Matters',
    category: 'books',
    priceCents: 1800,
    blurb: 'OKRs, told as stories.',
    hue: 110,
  },
  {
    id: 'pour-over',
    name: 'Pour-Over Coffee Set',
    category: 'home',
    priceCents: 5400,
    blurb: 'Slow mornings, better coffee.',
    hue: 30,
  },
  {
    id: 'desk-lamp',
    name: 'Warm LED Desk Lamp',
    category: 'home',
    priceCents: 2900,
    blurb: 'Easy on late-night eyes.',
    hue: 45,
  },
  {
    id: 'tent',
    name: 'Two-Person Tent',
    category: 'outdoor',
    priceCents: 24900,
    blurb: '1.6 kg, up in 3 minutes.',
    hue: 160,
  },
  {
    id: 'headlamp',
    name: 'Rechargeable Headlamp',
    category: 'outdoor',
    priceCents: 1200,
    blurb: '400 lumens, USB-C.',
    hue: 60,
  },
];

export const PRODUCTS_BY_ID: ReadonlyMap<string, Product> = new Map(PRODUCTS.map((p) => [p.id, p]));

/** Shipping regions; the value is the `region` label of the revenue metrics. */
export const REGIONS: readonly { readonly id: string; readonly label: string }[] = [
  { id: 'us_east', label: 'North America (East)' },
  { id: 'us_west', label: 'North America (West)' },
  { id: 'eu_west', label: 'Europe (West)' },
  { id: 'eu_central', label: 'Europe (Central)' },
  { id: 'apac', label: 'Asia Pacific' },
  { id: 'latam', label: 'Latin America' },
];

/** Payment methods; the value is the `payment_method` label. */
export const PAYMENT_METHODS: readonly { readonly id: string; readonly label: string }[] = [
  { id: 'card', label: 'Credit or debit card' },
  { id: 'paypal', label: 'PayPal' },
  { id: 'apple_pay', label: 'Apple Pay' },
  { id: 'bank_transfer', label: 'Bank transfer' },
];

export interface CartLine {
  readonly product: Product;
  readonly quantity: number;
  readonly totalCents: number;
}

/** Lines of a cart (unknown product ids are skipped). */
export function cartLines(cart: ReadonlyMap<string, number>): CartLine[] {
  const lines: CartLine[] = [];
  for (const [id, quantity] of cart) {
    const product = PRODUCTS_BY_ID.get(id);
    if (product && quantity > 0) lines.push({ product, quantity, totalCents: product.priceCents * quantity });
  }
  return lines;
}

export function cartTotalCents(cart: ReadonlyMap<string, number>): number {
  return cartLines(cart).reduce((sum, line) => sum + line.totalCents, 0);
}

export function cartItemCount(cart: ReadonlyMap<string, number>): number {
  return cartLines(cart).reduce((sum, line) => sum + line.quantity, 0);
}

/**
 * The order's category for the revenue metrics: the category with the largest share of the order value. The seed's
 * `trackPurchaseComplete` takes one category per order; splitting an order across categories would distort the
 * order value distribution.
 */
export function primaryCategory(cart: ReadonlyMap<string, number>): string {
  const byCategory = new Map<string, number>();
  for (const line of cartLines(cart)) {
    byCategory.set(line.product.category, (byCategory.get(line.product.category) ?? 0) + line.totalCents);
  }
  let best = 'other';
  let bestValue = -1;
  for (const [category, value] of byCategory) {
    if (value > bestValue) {
      best = category;
      bestValue = value;
    }
  }
  return best;
}

export function formatCents(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

/**
 * The shop sells in two currencies: Central Europe pays in EUR, everyone else in USD. Prices are the same
 * numbers in each currency's minor units (a demo price list), so a 89.00 USD item is 89.00 EUR there.
 */
const CURRENCY_BY_REGION: Readonly<Record<string, string>> = { eu_central: 'EUR' };

/** The currency an order shipped to `region` is paid in. */
export function currencyOfRegion(region: string | undefined): string {
  return (region && CURRENCY_BY_REGION[region]) || 'USD';
}

/** `minor` units of `currency` for people: `formatMoney(24100, 'USD')` is "$241.00", EUR "€241.00". */
export function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(
    minorToUnits(minor, currency),
  );
}
