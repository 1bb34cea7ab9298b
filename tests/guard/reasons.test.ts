/**
 * src/guard/reasons.ts: the `reason` vocabularies of business_metrics_dropped_total and
 * business_metrics_label_overflow_total. The lists are what docs/safety.md is held to (by
 * tests/safety/readme-examples.test.ts), so they must be true both ways: every reason listed is one the package
 * really counts, reached here through the public recording API with one bad input each and read from the
 * exposition, and no counted reason is missing from the lists. Each is a lower-case snake_case word, listed once.
 */
import { initBusinessMetrics } from '../../src';
import { DROP_REASONS, RELABEL_REASONS } from '../../src/guard/reasons';
import { engagementHandler } from '../../src/integrations/fetch';
import { parseExposition } from '../support/exposition';

const books = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };

describe('the drop and relabel reasons', () => {
  it('are distinct lower-case snake_case words', () => {
    for (const list of [DROP_REASONS, RELABEL_REASONS]) {
      expect(new Set(list).size).toBe(list.length);
      expect(list.filter((reason) => !/^[a-z]+(_[a-z]+)*$/.test(reason))).toEqual([]);
    }
  });

  it('are exactly the reasons the package counts', async () => {
    const handle = initBusinessMetrics({
      exporters: ['none'],
      env: {},
      // USD, EUR and GBP are sold; EUR has an unusable rate, GBP none.
      money: { currencies: ['USD', 'EUR', 'GBP'], reporting: { currency: 'USD', rates: { EUR: -1 } } },
      limits: { labels: { payment_method: { kind: 'capped', maxValues: 1 } } },
    });
    try {
      const metrics = handle.metrics;
      const anyValue = (value: unknown) => value as never;
      // Dropped measurements, one per reason.
      metrics.recordRevenue(anyValue('12'), books); // not_a_number
      metrics.recordRevenue(Infinity, books); // not_finite
      metrics.recordRevenue(-1, books); // negative
      metrics.recordRevenue(1e15, books); // too_large
      metrics.recordConversion('purchase', { source: 'direct', deviceType: 'web', sessionStartTime: NaN }); // invalid_time
      metrics.recordSessionEnd(Date.now() + 3_600_000, { userTier: 'pro', entryPage: '/' }); // future_time
      metrics.recordFunnelStep('cart_view', anyValue(null)); // invalid_argument
      const exploding = {
        deviceType: 'web',
        get source(): string {
          throw new Error('a getter of the caller throws');
        },
      };
      metrics.recordFunnelStep('cart_view', exploding); // internal_error
      metrics.recordRevenue(100, { ...books, currency: 'US' }); // invalid_currency
      metrics.recordRevenue(100, { ...books, currency: 'QQQ' }); // unknown_currency
      metrics.recordRevenue(100, { ...books, currency: 'JPY' }); // currency_not_allowed
      metrics.recordRevenue(19.99, { ...books, currency: 'USD' }); // not_integer
      metrics.recordRevenue(100, { ...books, currency: 'EUR' }); // invalid_exchange_rate, at the collection
      metrics.recordRevenue(100, { ...books, currency: 'GBP' }); // no_exchange_rate, at the collection
      // A browser's engagement event outside the endpoint's allow-list.
      const beacon = await engagementHandler({ features: ['search'], milestones: [] })(
        new Request('http://shop.test/api/engagement', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            session: { userTier: 'pro', entryPage: '/', isNewUser: false },
            events: [{ kind: 'feature', name: 'wishlist' }],
          }),
        }),
      ); // not_allowed
      expect(beacon.status).toBe(400);
      // Relabelled label values, one per reason.
      metrics.recordRevenue(100, { ...books, paymentMethod: 'paypal' }); // cap (card took the one place)
      metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'fridge' }); // not_allowed
      metrics.recordFunnelStep('cart_view', { source: anyValue({}), deviceType: 'web' }); // invalid_type
      metrics.recordFunnelStep('cart_view', { source: anyValue(undefined), deviceType: 'web' }); // missing

      // The exchange-rate problems are counted while the money gauges are collected, so the first collection
      // counts them and the next shows them.
      await metrics.getMetrics();
      const exposition = parseExposition(await metrics.getMetrics());
      const reasons = (family: string) =>
        [...new Set(exposition.find(family).map((sample) => sample.labels.reason))].sort();
      expect(reasons('business_metrics_dropped_total')).toEqual([...DROP_REASONS].sort());
      expect(reasons('business_metrics_label_overflow_total')).toEqual([...RELABEL_REASONS].sort());
    } finally {
      await handle.shutdown();
    }
  });
});
