/**
 * The active-users payload a cluster worker ships with its snapshot, as the primary receives it from a broken or
 * hostile worker: registers above the largest possible rank, unknown tiers and malformed
 * entries are refused whole (counted as `invalid` by the aggregate), never merged, never thrown; a sound payload
 * from a real worker's sketches is merged. Real BusinessMetrics on both sides, through the real aggregate.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics } from '../../src';
import { ACTIVE_USERS_EXTENSION } from '../../src/active-users/cluster-sketches';
import { ClusterAggregate } from '../../src/cluster/aggregate';
import { SnapshotEncoder } from '../../src/cluster/encode';
import { ClusterExtensions } from '../../src/cluster/extensions';
import type { SnapshotMessage } from '../../src/cluster/protocol';
import { pointsOf, TestReader } from '../support/collect';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const TODAY = Math.floor(NOW / 86_400_000);
const KEY = 'cluster-payload-test-shared-key';

function process(role: 'primary' | 'source') {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new BusinessMetrics(provider.getMeter('otel-business-metrics'), {
    now: () => NOW,
    activeUsers: { hashKey: KEY },
  });
  const extension = metrics.activeUsersClusterExtension(role);
  return { metrics, reader, provider, extension };
}

async function daily(reader: TestReader, tier: string): Promise<number | undefined> {
  const point = pointsOf(await reader.resourceMetrics(), 'business_active_users').find(
    (p) => p.attributes.window === 'daily' && p.attributes.user_tier === tier,
  );
  return point?.value as number | undefined;
}

describe('active-users payloads from cluster workers', () => {
  const primary = process('primary');
  // The primary's registry, as its init builds one: the aggregates below hand payloads to its extension.
  const extensions = new ClusterExtensions();
  extensions.add(primary.extension);
  afterAll(async () => {
    await primary.provider.shutdown();
  });

  /** A snapshot of source `id` with only this payload (no metric data). */
  const withPayload = (id: string, payload: unknown): SnapshotMessage =>
    JSON.parse(
      JSON.stringify({
        ...new SnapshotEncoder(id).encode(
          { resourceMetrics: { resource: undefined as never, scopeMetrics: [] }, errors: [] },
          1,
        ),
        ext: { [ACTIVE_USERS_EXTENSION]: payload },
      }),
    ) as SnapshotMessage;
  const base64 = (registers: Uint8Array) => Buffer.from(registers).toString('base64');
  /** A payload that starts a worker's chain (prev 0: it carries everything) with these sketches. */
  const chain = (sketches: unknown) => ({ seq: 1, prev: 0, sketches });
  const invalid = (aggregate: ClusterAggregate) => {
    let count = 0;
    aggregate.forEachFailure((reason, n) => (count += reason === 'invalid' ? n : 0));
    return count;
  };

  it('merges a real worker’s sketches, and refuses a register above the largest rank without merging anything', async () => {
    const worker = process('source');
    for (let i = 0; i < 1000; i++) worker.metrics.trackActiveUser(`user-${i}`, { userTier: 'pro' });
    const sound = worker.extension.collect!();
    await worker.provider.shutdown();
    const aggregate = new ClusterAggregate({ extensions });
    expect(aggregate.apply(withPayload('w1', sound))).toBe(true);
    const counted = await daily(primary.reader, 'pro');
    expect(Math.abs(counted! - 1000)).toBeLessThan(20);

    // One register of 52 (precision 14: ranks go up to 51) would inflate every window covering the day.
    const poisoned = new Uint8Array(16_384);
    poisoned[7] = 52;
    const payload = chain([{ tier: 'pro', day: TODAY, registers: base64(poisoned) }]);
    expect(aggregate.apply(withPayload('w2', payload))).toBe(false);
    expect(invalid(aggregate)).toBe(1);
    expect(await daily(primary.reader, 'pro')).toBe(counted);
  });

  it.each<[string, unknown]>([
    [
      'a tier outside the user_tier allow-list',
      chain([{ tier: 'hacker', day: TODAY, registers: base64(new Uint8Array(16_384)) }]),
    ],
    [
      'registers of another precision',
      chain([{ tier: 'pro', day: TODAY, registers: base64(new Uint8Array(1024)) }]),
    ],
    ['registers that are not a string', chain([{ tier: 'pro', day: TODAY, registers: 7 }])],
    [
      'a day that is not a number',
      chain([{ tier: 'pro', day: 'today', registers: base64(new Uint8Array(16_384)) }]),
    ],
    ['an entry that is null', chain([null])],
    ['sketches that are an object', chain({ tier: 'pro' })],
    ['a payload that is an array (no seq, prev)', [{ tier: 'pro', day: TODAY, registers: 'AAAA' }]],
    ['a prev that is not below seq', { seq: 3, prev: 3, sketches: [] }],
    ['a seq that is not an integer', { seq: '2', prev: 1, sketches: [] }],
  ])('refuses %s, counted, with nothing merged', async (_what, payload) => {
    const aggregate = new ClusterAggregate({ extensions });
    const before = await daily(primary.reader, 'pro');
    expect(aggregate.apply(withPayload('w3', payload))).toBe(false);
    expect(invalid(aggregate)).toBe(1);
    expect(await daily(primary.reader, 'pro')).toBe(before);
    expect(await daily(primary.reader, 'hacker')).toBeUndefined();
  });
});
