/**
 * Server-rendered pages of the demo shop.
 *
 * Owns: markup and the data attributes the browser script reads (`data-feature` on tracked controls; the session's
 * tier, entry page, new-user flag and start time on `<body>`). Must not touch: metrics, sessions, HTTP.
 */
import { html, type SafeHtml } from './html';
import {
  PAYMENT_METHODS,
  REGIONS,
  currencyOfRegion,
  formatCents,
  formatMoney,
  type CartLine,
  type Product,
} from './products';
import type { ShopSession } from './sessions';
import type { TroubleSettings } from './trouble';

/** Every `data-feature` a page carries: the engagement router's allow-list, so browsers cannot invent others. */
export const SHOP_FEATURES = [
  'search',
  'category_filter',
  'product_zoom',
  'wishlist',
  'size_guide',
  'apply_coupon',
] as const;

/** Every milestone a page announces (`data-milestone`). */
export const SHOP_MILESTONES = ['first_purchase'] as const;

export interface PageOptions {
  readonly title: string;
  readonly session?: ShopSession;
  readonly cartCount?: number;
  /** A milestone the browser script reports on load (`first_purchase`). */
  readonly milestone?: string;
  readonly scripts?: readonly string[];
  readonly styles?: readonly string[];
  readonly wide?: boolean;
}

const CHECKOUT_STAGES = ['Cart', 'Shipping', 'Payment', 'Review', 'Done'] as const;

export function layout(options: PageOptions, content: SafeHtml): string {
  const s = options.session;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Funnel &amp; Co.</title>
<link rel="stylesheet" href="/assets/shop.css">
${(options.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}" />`)}
</head>
<body${s ? html` data-user-tier="${s.userTier}" data-entry-page="${s.entryPage}" data-new-user="${String(s.isNewUser)}" data-session-start="${s.startedAt}"` : ''}${options.milestone ? html` data-milestone="${options.milestone}"` : ''}>
<header class="top">
  <a class="brand" href="/">Funnel <span>&amp;</span> Co.</a>
  <nav>
    <a href="/">Shop</a>
    <a href="/cart" data-testid="cart-link">Cart${options.cartCount ? html` <span class="badge">${options.cartCount}</span>` : ''}</a>
    <a href="/dashboard">Dashboard</a>
    <a href="/admin">Admin</a>
    <a href="/metrics">/metrics</a>
  </nav>
</header>
<main class="${options.wide ? 'wide' : ''}">
${content}
</main>
<footer>Demo shop of <code>otel-business-metrics</code>: every page view, checkout step and click here is a metric.</footer>
${s ? html`<script src="/assets/shop.js" defer></script>` : ''}
${(options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</body>
</html>`.value;
}

function stepper(current: (typeof CHECKOUT_STAGES)[number]): SafeHtml {
  const index = CHECKOUT_STAGES.indexOf(current);
  return html`<ol class="stepper">
    ${CHECKOUT_STAGES.map(
      (stage, i) => html`<li class="${i < index ? 'done' : i === index ? 'current' : ''}">${stage}</li>`,
    )}
  </ol>`;
}

function tile(product: Product): SafeHtml {
  return html`<a
    class="tile"
    href="/product/${product.id}"
    data-name="${product.name.toLowerCase()}"
    data-category="${product.category}"
  >
    <div class="swatch" style="--hue:${product.hue}">${product.name.slice(0, 1)}</div>
    <div class="tile-body">
      <strong>${product.name}</strong><span class="muted">${product.blurb}</span>
      <span class="price">${formatCents(product.priceCents)}</span>
    </div></a
  >`;
}

export function productListPage(
  products: readonly Product[],
  categories: readonly string[],
  active: string | undefined,
): SafeHtml {
  return html`<section class="hero">
      <h1>Gear for people who measure things</h1>
      <p class="muted">
        Browse, add to cart, check out, then open the <a href="/dashboard">dashboard</a> to see your visit.
      </p>
    </section>
    <div class="toolbar">
      <input
        type="search"
        id="search"
        placeholder="Search products"
        aria-label="Search products"
        data-feature="search"
      />
      <div class="chips">
        <a class="chip ${active ? '' : 'active'}" href="/">All</a>
        ${categories.map((c) => html`<a class="chip ${c === active ? 'active' : ''}" href="/?category=${c}" data-feature="category_filter">${c}</a>`)}
      </div>
    </div>
    <div class="grid" id="products">${products.map(tile)}</div>`;
}

export function productPage(product: Product): SafeHtml {
  return html`<p><a href="/">← All products</a></p>
    <article class="product">
      <div class="swatch big" style="--hue:${product.hue}" data-feature="product_zoom" title="Zoom">
        ${product.name.slice(0, 1)}
      </div>
      <div>
        <h1>${product.name}</h1>
        <p class="muted">${product.category} · ${product.blurb}</p>
        <p class="price big">${formatCents(product.priceCents)}</p>
        <form method="post" action="/cart/add" class="row">
          <input type="hidden" name="productId" value="${product.id}" />
          <label>Qty <input type="number" name="quantity" value="1" min="1" max="9" /></label>
          <button type="submit" class="primary" data-testid="add-to-cart">Add to cart</button>
        </form>
        <p class="row">
          <button type="button" class="ghost" data-feature="wishlist" data-testid="wishlist">
            ♡ Save to wishlist
          </button>
          ${product.category === 'apparel' ? html`<button type="button" class="ghost" data-feature="size_guide">Size guide</button>` : ''}
        </p>
      </div>
    </article>`;
}

export function cartPage(lines: readonly CartLine[], totalCents: number): SafeHtml {
  if (lines.length === 0) {
    return html`${stepper('Cart')}
      <h1>Your cart is empty</h1>
      <p><a href="/">Find something you like →</a></p>`;
  }
  return html`${stepper('Cart')}
    <h1>Your cart</h1>
    <table class="lines">
      <tbody>
        ${lines.map(
          (line) =>
            html`<tr>
              <td>${line.product.name}</td>
              <td>× ${line.quantity}</td>
              <td class="num">${formatCents(line.totalCents)}</td>
              <td>
                <form method="post" action="/cart/remove">
                  <input type="hidden" name="productId" value="${line.product.id}" /><button
                    class="link"
                    type="submit"
                  >
                    Remove
                  </button>
                </form>
              </td>
            </tr>`,
        )}
      </tbody>
      <tfoot>
        <tr>
          <th>Total</th>
          <td></td>
          <th class="num" data-testid="cart-total">${formatCents(totalCents)}</th>
          <td></td>
        </tr>
      </tfoot>
    </table>
    <p class="row">
      <input placeholder="Coupon code" aria-label="Coupon code" id="coupon" /><button
        type="button"
        class="ghost"
        data-feature="apply_coupon"
      >
        Apply</button
      ><span id="coupon-result" class="muted"></span>
    </p>
    <p><a class="button primary" href="/checkout/shipping" data-testid="checkout">Checkout</a></p>`;
}

export function shippingPage(session: ShopSession): SafeHtml {
  return html`${stepper('Shipping')}
    <h1>Shipping</h1>
    <form method="post" action="/checkout/shipping" class="stack">
      <label
        >Full name
        <input
          name="name"
          required
          maxlength="80"
          value="${session.shipping?.name ?? ''}"
          autocomplete="name"
      /></label>
      <label
        >Region
        <select name="region">
          ${REGIONS.map(
            (r) =>
              html`<option value="${r.id}" ${session.shipping?.region === r.id ? 'selected' : ''}>
                ${r.label}
              </option>`,
          )}
        </select></label
      >
      <button class="primary" type="submit" data-testid="to-payment">Continue to payment</button>
    </form>`;
}

export function paymentPage(session: ShopSession): SafeHtml {
  const chosen = session.payment?.method ?? 'card';
  return html`${stepper('Payment')}
    <h1>Payment</h1>
    <form method="post" action="/checkout/payment" class="stack">
      <fieldset>
        ${PAYMENT_METHODS.map(
          (m) =>
            html`<label class="radio"
              ><input type="radio" name="method" value="${m.id}" ${m.id === chosen ? 'checked' : ''} />
              ${m.label}</label
            >`,
        )}
      </fieldset>
      <button class="primary" type="submit" data-testid="to-review">Review order</button>
    </form>`;
}

export function reviewPage(session: ShopSession, lines: readonly CartLine[], totalCents: number): SafeHtml {
  const currency = currencyOfRegion(session.shipping?.region);
  const region = REGIONS.find((r) => r.id === session.shipping?.region)?.label ?? '';
  const method = PAYMENT_METHODS.find((m) => m.id === session.payment?.method)?.label ?? '';
  return html`${stepper('Review')}
    <h1>Review your order</h1>
    <table class="lines">
      <tbody>
        ${lines.map(
          (line) =>
            html`<tr>
              <td>${line.product.name}</td>
              <td>× ${line.quantity}</td>
              <td class="num">${formatMoney(line.totalCents, currency)}</td>
            </tr>`,
        )}
      </tbody>
      <tfoot>
        <tr>
          <th>Total</th>
          <td></td>
          <th class="num">${formatMoney(totalCents, currency)}</th>
        </tr>
      </tfoot>
    </table>
    <p class="muted">Ship to ${session.shipping?.name ?? ''}, ${region}. Pay with ${method}.</p>
    <form method="post" action="/checkout/place">
      <button class="primary" type="submit" data-testid="place-order">Place order</button>
    </form>`;
}

export function confirmationPage(
  orderId: string,
  totalCents: number,
  currency: string,
  refundedCents: number,
): SafeHtml {
  return html`${stepper('Done')}
    <h1>Thank you!</h1>
    <p>
      Order <code data-testid="order-id">${orderId}</code> is confirmed:
      <strong data-testid="order-total">${formatMoney(totalCents, currency)}</strong>.
    </p>
    ${
      refundedCents > 0
        ? html`<p data-testid="order-refunded">Refunded: ${formatMoney(refundedCents, currency)}.</p>`
        : ''
    }
    ${
      refundedCents < totalCents
        ? html`<form method="post" action="/order/${orderId}/refund">
            <input type="hidden" name="part" value="half" />
            <button type="submit" data-testid="refund-half">Return half of it (partial refund)</button>
          </form>`
        : ''
    }
    <p class="row">
      <a class="button" href="/">Continue shopping</a
      ><a class="button primary" href="/dashboard">See it on the dashboard →</a>
    </p>`;
}

export function errorPage(title: string, message: string, retryHref?: string): SafeHtml {
  return html`<h1>${title}</h1>
    <p>${message}</p>
    ${retryHref ? html`<p><a class="button primary" href="${retryHref}">Try again</a></p>` : ''}`;
}

export function adminPage(
  trouble: TroubleSettings,
  variants: readonly string[],
  simulator: string,
): SafeHtml {
  const toggle = (name: string, on: boolean, label: string, effect: string) =>
    html`<label class="switch"
      ><input type="checkbox" name="${name}" value="1" ${on ? 'checked' : ''} /> <strong>${label}</strong>
      <span class="muted">${effect}</span></label
    >`;
  return html`<h1>Trouble switches</h1>
    <p class="muted">
      Break the shop on purpose and watch the business metrics react. Also settable with
      <code>TROUBLE_SLOW_CHECKOUT</code>, <code>TROUBLE_PAYMENT_FAILURES</code>,
      <code>TROUBLE_BROKEN_VARIANT</code> or <code>POST /admin/trouble</code> (JSON).
    </p>
    <form method="post" action="/admin/trouble" class="stack card">
      ${toggle('slowCheckout', trouble.slowCheckoutMs > 0, 'Slow checkout', `every checkout request waits ${trouble.slowCheckoutMs || 2500} ms; simulated shoppers abandon`)}
      ${toggle('paymentFailures', trouble.paymentFailureRate > 0, 'Payment failures', `the gateway declines ${Math.round((trouble.paymentFailureRate || 0.85) * 100)}% of orders (payment_declined, HTTP 502)`)}
      <label
        >Broken experiment variant
        <select name="brokenVariant">
          <option value="none">none</option>
          ${variants.map((v) => html`<option value="${v}" ${trouble.brokenVariant === v ? 'selected' : ''}>${v}</option>`)}
        </select>
        <span class="muted">placing an order in that variant fails with HTTP 500</span></label
      >
      <button class="primary" type="submit">Apply</button>
    </form>
    <p class="muted">Traffic simulator: ${simulator}.</p>`;
}

export function dashboardPage(): SafeHtml {
  return html`<div class="dash-head">
      <h1>Business dashboard</h1>
      <span class="muted" id="updated">loading…</span>
    </div>
    <div class="kpis" id="kpis">
      <div class="kpi"><span>Orders</span><strong id="kpi-orders">–</strong></div>
      <div class="kpi"><span>Revenue</span><strong id="kpi-revenue">–</strong></div>
      <div class="kpi"><span>Refunds</span><strong id="kpi-refunds">–</strong></div>
      <div class="kpi"><span>Net revenue</span><strong id="kpi-net">–</strong></div>
      <div class="kpi">
        <span>Conversion (sessions, cart → order)</span><strong id="kpi-conversion">–</strong>
      </div>
      <div class="kpi"><span>Active users (daily)</span><strong id="kpi-active">–</strong></div>
      <div class="kpi"><span>HTTP p95 / 5xx</span><strong id="kpi-http">–</strong></div>
      <div class="kpi"><span>Experience score (checkout / shop)</span><strong id="kpi-score">–</strong></div>
      <div class="kpi">
        <span>Lost to errors, per minute (est.)</span><strong id="kpi-error-cost">–</strong>
      </div>
      <div class="kpi"><span>Revenue at risk, per minute</span><strong id="kpi-at-risk">–</strong></div>
    </div>
    <div id="trouble-banner" class="banner" hidden></div>
    <div class="charts">
      <section class="chart">
        <h2>Checkout funnel</h2>
        <p class="muted">sessions per step, drop-off from the previous step</p>
        <div id="chart-funnel"></div>
      </section>
      <section class="chart">
        <h2>Conversion rate</h2>
        <p class="muted">
          of the sessions that ended in the trailing minute having viewed a cart, those that ordered (a
          session ends when idle), overall and per experiment variant; never above 100%
        </p>
        <div id="chart-conversion"></div>
      </section>
      <section class="chart">
        <h2>Time to conversion</h2>
        <p class="muted">
          session start → conversion, p50 and p95 over the trailing minute; dots are traced conversions
          (exemplars)
        </p>
        <div id="chart-time-to-conversion"></div>
        <p class="muted" id="ttc-trace">hover a point to see the trace behind it</p>
      </section>
      <section class="chart">
        <h2>Experience score (0-100)</h2>
        <p class="muted">
          100 × Apdex (T = 0.25 s) × (1 − 5xx share)^10 over the trailing minute, for the checkout routes and
          the whole shop (the insight rules' formula)
        </p>
        <div id="chart-score"></div>
      </section>
      <section class="chart">
        <h2>Revenue lost to errors and at risk, per minute (currency units)</h2>
        <p class="muted">
          lost: failed checkout attempts × revenue per order (an estimate); at risk: revenue short of this
          shop's healthy revenue per cart view (Prometheus compares with the same time last week)
        </p>
        <div id="chart-lost-revenue"></div>
      </section>
      <section class="chart">
        <h2>Revenue per minute by region and currency (currency units)</h2>
        <p class="muted">business_revenue_per_minute_cents</p>
        <div id="chart-revenue"></div>
      </section>
      <section class="chart">
        <h2>Order value distribution</h2>
        <p class="muted">orders per business_order_value_cents bucket (labelled by its upper bound)</p>
        <div id="chart-order-value"></div>
      </section>
      <section class="chart">
        <h2>Feature adoption</h2>
        <p class="muted">business_feature_usage_total by feature</p>
        <div id="chart-features"></div>
      </section>
      <section class="chart">
        <h2>Active users</h2>
        <p class="muted">daily window, by tier</p>
        <div id="chart-active"></div>
      </section>
      <section class="chart">
        <h2>Technical: HTTP latency and errors</h2>
        <p class="muted">http.server.request.duration p95 and 5xx share</p>
        <div id="chart-http"></div>
      </section>
      <section class="chart">
        <h2>Technical: Node runtime</h2>
        <p class="muted">nodejs.eventloop.delay.p99 and v8js.memory.heap.used (runtimeMetrics)</p>
        <div id="chart-runtime"></div>
      </section>
    </div>`;
}
