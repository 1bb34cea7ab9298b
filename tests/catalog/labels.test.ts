/**
 * src/catalog/labels.ts directly: the label vocabularies fit the catalog and the seed. Every label of a business
 * metric has a policy except the currency labels (which the money rules bound), and no policy is for a label no
 * metric has; every value the package records by itself (the checkout steps, the trackers' `in_app`, `web`,
 * `control`, `purchase`, `unknown`) is accepted, and known to a capped label (always kept, outside its cap); the
 * checkout steps are the seed's funnel in order, and the tracker enum lists the same.
 */
import { BUSINESS_METRIC_LIST } from '../../src/catalog/metrics';
import {
  CHECKOUT_STEPS,
  DEFAULT_LABEL_POLICIES,
  OTHER_LABEL_VALUE,
  REFUND_REASONS,
  UNKNOWN_LABEL_VALUE,
  type LabelPolicy,
} from '../../src/catalog/labels';
import { CheckoutStep } from '../../src/trackers';

const accepts = (policy: LabelPolicy, value: string) =>
  policy.kind === 'allow' ? policy.values.includes(value) : true;
const known = (policy: LabelPolicy): readonly string[] =>
  policy.kind === 'allow' ? policy.values : (policy.known ?? []);

it('has a policy for every label of the business metrics but the currency labels, and none for others', () => {
  const labels = new Set<string>(BUSINESS_METRIC_LIST.flatMap((metric) => metric.labels));
  const policed = new Set(Object.keys(DEFAULT_LABEL_POLICIES));
  expect([...labels].filter((label) => !policed.has(label)).sort()).toEqual([
    'currency',
    'reporting_currency',
  ]);
  expect([...policed].filter((label) => !labels.has(label))).toEqual([]);
});

it('accepts every value the package records by itself', () => {
  const recordedByThePackage: Record<string, string[]> = {
    step: [...CHECKOUT_STEPS],
    source: ['in_app', 'direct'],
    device_type: ['web', UNKNOWN_LABEL_VALUE],
    experiment_variant: ['control'],
    conversion_type: ['purchase'],
    user_tier: [UNKNOWN_LABEL_VALUE],
    is_new_user: ['true', 'false'],
    window: ['daily', 'weekly', 'monthly'],
    reason: ['customer_request', OTHER_LABEL_VALUE],
  };
  for (const [label, values] of Object.entries(recordedByThePackage)) {
    const policy = DEFAULT_LABEL_POLICIES[label as keyof typeof DEFAULT_LABEL_POLICIES];
    for (const value of values) expect([label, value, accepts(policy, value)]).toEqual([label, value, true]);
    // A capped label lists them as known: always accepted, outside the cap, whatever else fills it.
    if (policy.kind === 'capped')
      for (const value of values)
        expect([label, known(policy)]).toEqual([label, expect.arrayContaining([value])]);
  }
});

it('lists each vocabulary without duplicates, and other among the refund reasons', () => {
  for (const [label, policy] of Object.entries(DEFAULT_LABEL_POLICIES)) {
    const values = known(policy);
    expect([label, new Set(values).size]).toEqual([label, values.length]);
  }
  expect(REFUND_REASONS).toContain(OTHER_LABEL_VALUE);
});

it("lists the seed's checkout funnel in order, as the tracker enum does", () => {
  expect(CHECKOUT_STEPS.slice(0, 5)).toEqual([
    'cart_view',
    'shipping_info',
    'payment_info',
    'order_review',
    'order_confirmed',
  ]);
  expect(Object.values(CheckoutStep)).toEqual([...CHECKOUT_STEPS]);
});
