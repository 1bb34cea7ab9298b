/**
 * src/active-users/cluster-sketches.ts: a worker ships a tier-day's registers only when they changed since its
 * previous payload; a payload that never reached the primary (a refused snapshot, a failed send) is noticed at the
 * next one, the primary asks that worker for everything (`full` in its next request), and its union ends equal to
 * the workers' own sketches, register for register. Real BusinessMetrics, encoders and aggregate, through JSON as
 * IPC carries them.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics } from '../../src';
import { ACTIVE_USERS_EXTENSION } from '../../src/active-users/cluster-sketches';
import { ClusterAggregate } from '../../src/cluster/aggregate';
import { SnapshotEncoder } from '../../src/cluster/encode';
import { ClusterExtensions } from '../../src/cluster/extensions';
import type { SnapshotMessage } from '../../src/cluster/protocol';
import { pointsOf, TestReader } from '../support/collect';

const DAY = 86_400_000;
const KEY = 'cluster-sketches-test-shared-key';

interface Payload {
  seq: number;
  prev: number;
  sketches: Array<{ tier: string; day: number }>;
}

function node(name: string, role: 'primary' | 'source', clock: { now: number }) {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new BusinessMetrics(provider.getMeter('otel-business-metrics'), {
    now: () => clock.now,
    activeUsers: { hashKey: KEY },
  });
  const extensions = new ClusterExtensions();
  extensions.add(metrics.activeUsersClusterExtension(role));
  const encoder = new SnapshotEncoder(name, extensions);
  let round = 0;
  return {
    metrics,
    provider,
    reader,
    extensions,
    /** The worker's next snapshot, through JSON; `full` as the primary's request asks. */
    async snapshot(full = false): Promise<SnapshotMessage> {
      if (full) encoder.restartEpoch();
      const message = encoder.encode(await reader.collect(), ++round);
      return JSON.parse(JSON.stringify(message)) as SnapshotMessage;
    },
  };
}

const payloadOf = (message: SnapshotMessage) => message.ext?.[ACTIVE_USERS_EXTENSION] as Payload;
const shipped = (message: SnapshotMessage) =>
  payloadOf(message)
    .sketches.map(({ tier, day }) => `${tier}@${day}`)
    .sort();

describe('active-user sketches across a cluster', () => {
  const clock = { now: Date.UTC(2026, 10, 28, 12, 0, 0) };
  const today = Math.floor(clock.now / DAY);
  const primary = node('primary', 'primary', clock);
  const worker = node('worker-1', 'source', clock);
  const aggregate = new ClusterAggregate({ extensions: primary.extensions });
  // One process outside the cluster that sees every user the worker sees: the union must equal its count.
  const reference = node('reference', 'primary', clock);
  afterAll(async () => {
    for (const each of [primary, worker, reference]) await each.provider.shutdown();
  });

  const track = (prefix: string, count: number, userTier: string) => {
    for (let i = 0; i < count; i++) {
      worker.metrics.trackActiveUser(`${prefix}-${i}`, { userTier });
      reference.metrics.trackActiveUser(`${prefix}-${i}`, { userTier });
    }
  };
  /** business_active_users as a process reports it; two are equal exactly when their registers are. */
  const estimates = async (of: { reader: TestReader }) =>
    Object.fromEntries(
      pointsOf(await of.reader.resourceMetrics(), 'business_active_users').map((point) => [
        `${String(point.attributes.user_tier)}/${String(point.attributes.window)}`,
        point.value as number,
      ]),
    );

  it('sends every tier-day first, then only what changed, and nothing but the chain when nothing did', async () => {
    clock.now -= DAY; // yesterday
    track('old', 300, 'free');
    clock.now += DAY;
    track('a', 500, 'free');
    track('b', 200, 'pro');
    const first = await worker.snapshot();
    expect(shipped(first)).toEqual([`free@${today - 1}`, `free@${today}`, `pro@${today}`]);
    expect(payloadOf(first)).toMatchObject({ seq: 1, prev: 0 });
    expect(aggregate.apply(first)).toBe(true);

    const quiet = await worker.snapshot();
    expect(payloadOf(quiet)).toEqual({ seq: 2, prev: 1, sketches: [] });
    expect(JSON.stringify(payloadOf(quiet)).length).toBeLessThan(40);
    expect(aggregate.apply(quiet)).toBe(true);

    track('c', 50, 'pro');
    const changed = await worker.snapshot();
    expect(shipped(changed)).toEqual([`pro@${today}`]);
    expect(aggregate.apply(changed)).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    expect(await estimates(primary)).toEqual(await estimates(reference));
  });

  it('notices a payload that never arrived, asks for everything, and loses no register', async () => {
    track('lost', 400, 'free'); // only in the payload that is lost below
    const lost = await worker.snapshot();
    expect(shipped(lost)).toEqual([`free@${today}`]);
    // Never applied: a failed send, or a snapshot the primary refused.
    track('after', 10, 'pro');
    const next = await worker.snapshot();
    expect(shipped(next)).toEqual([`pro@${today}`]);
    expect(aggregate.apply(next)).toBe(true);
    // What arrived is merged; the gap is seen, and the next request asks this worker for everything.
    expect(aggregate.sourcesNeedingFull()).toEqual(['worker-1']);
    expect(await estimates(primary)).not.toEqual(await estimates(reference));

    const resent = await worker.snapshot(true);
    expect(payloadOf(resent)).toMatchObject({ prev: 0 });
    expect(shipped(resent)).toEqual([`free@${today - 1}`, `free@${today}`, `pro@${today}`]);
    expect(aggregate.apply(resent)).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    expect(await estimates(primary)).toEqual(await estimates(reference));
  });

  it('merges a late payload when it comes, and a replayed old one costs a resend, never a register', async () => {
    track('late', 100, 'free');
    const late = await worker.snapshot();
    const later = await worker.snapshot();
    // In order, however late: the channel keeps a worker's messages in order.
    expect(aggregate.apply(late)).toBe(true);
    expect(aggregate.apply(later)).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    // An old payload again (a replay): merged (idempotent) and answered with a full request.
    expect(aggregate.apply({ ...late, round: 99 })).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual(['worker-1']);
    expect(aggregate.apply(await worker.snapshot(true))).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    expect(await estimates(primary)).toEqual(await estimates(reference));
  });

  it('reports the same counts as one process that saw every user (and the numbers are not empty)', async () => {
    const counts = await estimates(primary);
    expect(counts['free/daily']).toBeGreaterThan(900);
    expect(counts['free/weekly']).toBeGreaterThan(counts['free/daily']);
    expect(counts).toEqual(await estimates(reference));
  });

  it('sends nothing of the primary’s own sketches to itself', async () => {
    primary.metrics.trackActiveUser('at-the-primary', { userTier: 'pro' });
    const own = await primary.snapshot();
    expect(own.ext).toBeUndefined();
  });
});
