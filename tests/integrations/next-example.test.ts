/**
 * The Next.js guide of docs/integrations.md, for real: every file it shows is examples/next-app's own, verbatim,
 * and that app, built with `next build` and started with `next start` (the build the scenario table uses), takes
 * the seed's checkout funnel in Chromium: the size guide's click goes through the browser client in a client
 * component, each checkout step through a route handler, and all of it reaches /metrics.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { readDoc } from '../docs/docs-files';
import { requireBinary } from '../support/binaries';
import { parseExposition, type Exposition } from '../support/exposition';
import { TOKEN, startScenarioApp, type ScenarioApp } from '../support/scenario-apps';
import { waitUntil } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const SHOWN = [
  'instrumentation.ts',
  'next.config.mjs',
  'app/metrics/route.ts',
  'app/api/checkout/[step]/route.ts',
  'app/api/engagement/route.ts',
  'app/product/[id]/size-guide.tsx',
];
const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const chromiumPath = requireBinary('chromium', 'apt-get install chromium');
const describeWithChromium = chromiumPath ? describe : describe.skip;

describe('the Next.js guide', () => {
  it.each(SHOWN)('shows examples/next-app/%s verbatim', (file) => {
    const source = readFileSync(join(ROOT, 'examples', 'next-app', file), 'utf8');
    expect(readDoc('docs/integrations.md')).toContain(`\n${source}\`\`\``);
  });
});

describeWithChromium('the Next.js example app in Chromium', () => {
  let app: ScenarioApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startScenarioApp('next');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 20 * 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const scrape = async (): Promise<Exposition> => {
    const answer = await fetch(`${app.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return parseExposition(await answer.text());
  };

  it('records the size guide from a client component and every checkout step from route handlers', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    await page.goto(`${app.base}/product/p-2`);
    await page.getByRole('button', { name: 'Size guide' }).click();
    // A client-side navigation unmounts the size guide: the hook ends its session and delivers the queued events.
    await page.getByRole('link', { name: 'Buy' }).click();
    for (const label of ['View cart', 'Enter shipping', 'Enter payment', 'Review order', 'Place order']) {
      await page.getByRole('button', { name: label }).click();
    }
    await page.locator('#confirmed').waitFor();
    expect(await page.locator('#confirmed').textContent()).toBe('Order confirmed: Rain jacket');
    await context.close();

    let exposition = await scrape();
    await waitUntil(
      'the size guide click reaches /metrics',
      async () =>
        (exposition = await scrape()).find('business_feature_usage_total', { feature_name: 'size_guide' })
          .length > 0,
      { timeoutMillis: 15_000, intervalMillis: 200 },
    );
    expect(
      exposition.value('business_feature_usage_total', { feature_name: 'size_guide', user_tier: 'free' }),
    ).toBe(1);
    for (const step of ['cart_view', 'shipping_info', 'payment_info', 'order_review', 'order_confirmed']) {
      expect([
        step,
        exposition.value('business_funnel_step_total', { step, device_type: 'desktop' }),
      ]).toEqual([step, 1]);
    }
    expect(exposition.value('business_revenue_cents_total', { product_category: 'apparel' })).toBe(8900);
    expect(
      exposition
        .find('http_server_request_duration_seconds_count', {
          http_route: '/api/checkout/[step]',
          http_response_status_code: '200',
        })
        .reduce((sum, s) => sum + s.value, 0),
    ).toBe(5);
  }, 120_000);
});
