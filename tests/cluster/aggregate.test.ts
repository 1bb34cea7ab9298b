/**
 * The merge itself, in one process: real BusinessMetrics recording into real SDK meters stand in for workers;
 * their collections go through the wire format (JSON, as cluster IPC sends it) into the primary's aggregate,
 * rendered by the package's serializer. Every expected number is computed here from what was recorded.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BusinessMetrics,
  BUSINESS_METRICS,
  initBusinessMetrics,
  PROMETHEUS_FAMILIES,
  serializePrometheus,
} from '../../src';
import { ClusterAggregate } from '../../src/cluster/aggregate';
import { SnapshotEncoder } from '../../src/cluster/encode';
import { ClusterExtensions } from '../../src/cluster/extensions';
import { PROTOCOL_TAG, PROTOCOL_VERSION, type SnapshotMessage } from '../../src/cluster/protocol';
import { PACKAGE_GAUGE_RULES } from '../../src/cluster/rules';
import { storeCollectionOf } from '../../src/series/collection';
import { encodeJsonRequest } from '../../src/exporters/otlp-wire';
import { parseExposition } from '../support/exposition';
import { TestReader } from '../support/collect';

const resource = resourceFromAttributes({ 'service.name': 'primary' });
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

interface FakeWorker {
  metrics: BusinessMetrics;
  reader: TestReader;
  encoder: SnapshotEncoder;
  provider: MeterProvider;
}

function worker(name: string, clock = () => NOW, extensions?: ClusterExtensions): FakeWorker {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    metrics: new BusinessMetrics(provider.getMeter('otel-business-metrics'), { now: clock }),
    reader,
    encoder: new SnapshotEncoder(name, extensions),
    provider,
  };
}

/** What a worker sends: through JSON, exactly as node:cluster IPC carries it. */
async function snapshot(w: FakeWorker, round = 1, final = false): Promise<SnapshotMessage> {
  const message = w.encoder.encode(await w.reader.collect(), round, final);
  return JSON.parse(JSON.stringify(message)) as SnapshotMessage;
}

function exposition(aggregate: ClusterAggregate) {
  return parseExposition(serializePrometheus(aggregate.render(resource).resourceMetrics));
}

function value(text: ReturnType<typeof exposition>, name: string, labels: Record<string, string> = {}) {
  const matches = text.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return matches.reduce((sum, s) => sum + s.value, 0);
}

const funnel = PROMETHEUS_FAMILIES.funnelStep;
const revenue = PROMETHEUS_FAMILIES.revenue;
const orderValue = PROMETHEUS_FAMILIES.orderValue;
const perMinute = PROMETHEUS_FAMILIES.revenuePerMinute;
const activeUsers = PROMETHEUS_FAMILIES.activeUsers;

describe('cluster aggregate', () => {
  it('sums counters, sums histograms bucket by bucket, sums the revenue minute, and never multiplies active users', async () => {
    const workers = [worker('a'), worker('b'), worker('c')];
    const amounts = [[100, 2500], [70_000], [999, 1, 12_345]];
    workers.forEach((w, i) => {
      for (let n = 0; n <= i; n++)
        w.metrics.recordFunnelStep('cart', { source: 'ads', deviceType: 'mobile' });
      w.metrics.recordFunnelStep('checkout', { source: `s${i}`, deviceType: 'desktop' });
      for (const cents of amounts[i])
        w.metrics.recordRevenue(cents, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
      // The app sets one fleet-wide number; every worker holds a copy.
      w.metrics.updateActiveUsers('daily', { pro: 1234 });
    });
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    for (const w of workers) expect(aggregate.apply(await snapshot(w))).toBe(true);
    const text = exposition(aggregate);

    expect(value(text, funnel, { step: 'cart' })).toBe(1 + 2 + 3);
    for (let i = 0; i < 3; i++) expect(value(text, funnel, { step: 'checkout', source: `s${i}` })).toBe(1);
    const all = amounts.flat();
    const sum = all.reduce((a, b) => a + b, 0);
    expect(value(text, revenue)).toBe(sum);
    expect(value(text, `${orderValue}_count`)).toBe(all.length);
    expect(value(text, `${orderValue}_sum`)).toBe(sum);
    for (const le of BUSINESS_METRICS.orderValue.buckets!) {
      expect({ le, count: value(text, `${orderValue}_bucket`, { le: String(le) }) }).toEqual({
        le,
        count: all.filter((cents) => cents <= le).length,
      });
    }
    expect(value(text, `${orderValue}_bucket`, { le: '+Inf' })).toBe(all.length);
    expect(value(text, perMinute, { region: 'eu' })).toBe(sum);
    expect(value(text, activeUsers, { window: 'daily', user_tier: 'pro' })).toBe(1234);
    // One series per label set, never one per worker.
    expect(text.samples.filter((s) => s.name === activeUsers)).toHaveLength(1);
    expect(text.samples.filter((s) => s.name === funnel && s.labels.step === 'cart')).toHaveLength(1);
    await Promise.all(workers.map((w) => w.provider.shutdown()));
  });

  it('exchange rates: the rate changed most recently wins, not the highest a worker still holds', async () => {
    const rates = [new Map([['EUR', 1.1]]), new Map([['EUR', 1.1]])];
    const [a, b] = ['a', 'b'].map((name, i) => {
      const reader = new TestReader();
      const provider = new MeterProvider({ readers: [reader] });
      const metrics = new BusinessMetrics(provider.getMeter('otel-business-metrics'), {
        now: () => NOW,
        money: { reporting: { currency: 'USD', rates: rates[i]! } },
      });
      metrics.recordRevenue(100, {
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu',
        currency: 'EUR',
      });
      return { metrics, reader, provider, encoder: new SnapshotEncoder(name) };
    });
    const rate = () => value(exposition(aggregate), 'business_exchange_rate', { currency: 'EUR' });
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    aggregate.apply(await snapshot(a!, 1), 1000);
    aggregate.apply(await snapshot(b!, 1), 1000);
    expect(rate()).toBe(1.1);
    // b refreshed its table first; a still holds the old, higher rate.
    rates[1]!.set('EUR', 1.05);
    aggregate.apply(await snapshot(a!, 2), 2000);
    aggregate.apply(await snapshot(b!, 2), 2000);
    expect(rate()).toBe(1.05);
    await Promise.all([a!, b!].map((w) => w.provider.shutdown()));
  });

  it('active users: the value changed most recently wins, whichever worker set it', async () => {
    const [a, b] = [worker('a'), worker('b')];
    a.metrics.updateActiveUsers('daily', { pro: 100 });
    b.metrics.updateActiveUsers('daily', { pro: 100 });
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    aggregate.apply(await snapshot(a, 1), 1000);
    aggregate.apply(await snapshot(b, 1), 1000);
    expect(value(exposition(aggregate), activeUsers)).toBe(100);
    // Later only b learns the new (lower) number; a still holds the old copy.
    b.metrics.updateActiveUsers('daily', { pro: 80 });
    aggregate.apply(await snapshot(a, 2), 2000);
    aggregate.apply(await snapshot(b, 2), 2000);
    expect(value(exposition(aggregate), activeUsers)).toBe(80);
    await Promise.all([a, b].map((w) => w.provider.shutdown()));
  });

  it('a source that exits takes its up-down counters with it: what they held (in-flight work) went with it', async () => {
    const [a, b] = [worker('a'), worker('b')];
    const inflight = (w: FakeWorker) => w.provider.getMeter('app').createUpDownCounter('jobs.inflight');
    inflight(a).add(3);
    inflight(b).add(2);
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    aggregate.apply(await snapshot(a));
    aggregate.apply(await snapshot(b));
    expect(value(exposition(aggregate), 'jobs_inflight')).toBe(5);
    aggregate.retire('a', false);
    // A replacement of a starts with its own work in flight: the total is what the live workers hold.
    const c = worker('c');
    inflight(c).add(4);
    aggregate.apply(await snapshot(c));
    expect(value(exposition(aggregate), 'jobs_inflight')).toBe(6);
    await Promise.all([a, b, c].map((w) => w.provider.shutdown()));
  });

  it('an up-down series a source no longer sends leaves its total; a refused point keeps its previous value', async () => {
    // A cluster worker relaying its threads stops sending a thread's up-down series when that thread exits (the
    // relay's aggregate dropped it): the primary must not keep the level the thread last had.
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    const level = (jobs: number | undefined, round: number, id = 0): SnapshotMessage => ({
      tag: PROTOCOL_TAG,
      type: 'snapshot',
      version: PROTOCOL_VERSION,
      source: 'relay',
      round,
      epoch: 0,
      firstKey: round === 1 ? 0 : 1,
      keys: round === 1 ? [JSON.stringify(['queue', 'mail'])] : [],
      scopes: [{ name: 'app' }],
      metrics:
        jobs === undefined
          ? []
          : [
              {
                scope: 0,
                name: 'jobs.inflight',
                description: '',
                unit: '',
                valueType: 1,
                shape: 'updown',
                points: [id, jobs],
              },
            ],
    });
    expect(aggregate.apply(level(3, 1))).toBe(true);
    expect(value(exposition(aggregate), 'jobs_inflight')).toBe(3);
    // A point with a number the rules refuse: counted, and the series keeps its previous value.
    expect(
      aggregate.apply({ ...level(3, 2), metrics: [{ ...level(3, 2).metrics[0], points: [0, 'x'] }] }),
    ).toBe(false);
    expect(value(exposition(aggregate), 'jobs_inflight')).toBe(3);
    expect(aggregate.apply(level(undefined, 3))).toBe(true);
    expect(exposition(aggregate).samples.filter((s) => s.name === 'jobs_inflight')).toEqual([]);
    // Sent again, it counts again.
    expect(aggregate.apply(level(1, 4))).toBe(true);
    expect(value(exposition(aggregate), 'jobs_inflight')).toBe(1);
  });

  it('a source that exits keeps its counts in the totals; its gauges leave; a late message from it is ignored', async () => {
    const [a, b] = [worker('a'), worker('b')];
    a.metrics.recordFunnelStep('cart', { source: 'ads', deviceType: 'mobile' });
    a.metrics.recordRevenue(500, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    b.metrics.recordRevenue(300, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    const lastOfA = await snapshot(a);
    aggregate.apply(lastOfA);
    aggregate.apply(await snapshot(b));
    // a records more, then dies before its next snapshot (SIGKILL): exactly that is lost, and counted.
    a.metrics.recordRevenue(10_000, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    aggregate.retire('a', false);
    let failures = 0;
    aggregate.forEachFailure((reason, count) => {
      if (reason === 'exited') failures += count;
    });
    expect(failures).toBe(1);
    const text = exposition(aggregate);
    expect(value(text, revenue)).toBe(800);
    expect(value(text, `${orderValue}_count`)).toBe(2);
    expect(value(text, funnel)).toBe(1);
    expect(value(text, perMinute)).toBe(300);
    expect(aggregate.apply(lastOfA)).toBe(false);
    expect(value(exposition(aggregate), revenue)).toBe(800);
    await Promise.all([a, b].map((w) => w.provider.shutdown()));
  });

  it('a final snapshot loses nothing; a missed snapshot is repaired by a full one instead of being guessed', async () => {
    const a = worker('a');
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    a.metrics.recordFunnelStep('cart', { source: 'ads', deviceType: 'mobile' });
    aggregate.apply(await snapshot(a, 1));
    // Snapshot 2 introduces a new series and is lost in transit; snapshot 3 refers to it by id only.
    a.metrics.recordFunnelStep('checkout', { source: 'ads', deviceType: 'mobile' });
    await snapshot(a, 2);
    a.metrics.recordFunnelStep('checkout', { source: 'ads', deviceType: 'mobile' });
    const third = await snapshot(a, 3);
    expect(third.keys).toHaveLength(0);
    expect(aggregate.apply(third)).toBe(false);
    expect(aggregate.sourcesNeedingFull()).toEqual(['a']);
    expect(value(exposition(aggregate), funnel)).toBe(1);
    a.encoder.restartEpoch();
    expect(aggregate.apply(await snapshot(a, 4))).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    a.metrics.recordFunnelStep('cart', { source: 'ads', deviceType: 'mobile' });
    expect(aggregate.apply(await snapshot(a, 0, true))).toBe(true);
    expect(aggregate.isRetired('a')).toBe(true);
    expect(value(exposition(aggregate), funnel)).toBe(4);
    await a.provider.shutdown();
  });

  it('a final snapshot refused whole still retires its source: its gauges leave and nothing waits for it', async () => {
    const [a, b] = [worker('a'), worker('b')];
    const books = { productCategory: 'books', paymentMethod: 'card', region: 'eu' } as const;
    a.metrics.recordRevenue(500, books);
    b.metrics.recordRevenue(300, books);
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    expect(aggregate.apply(await snapshot(a, 1))).toBe(true);
    expect(aggregate.apply(await snapshot(b, 1))).toBe(true);
    expect(value(exposition(aggregate), perMinute)).toBe(800);
    // A snapshot introducing a series is lost; a's final one refers to it by id only and is refused whole.
    a.metrics.recordFunnelStep('cart', { source: 'ads', deviceType: 'mobile' });
    await snapshot(a, 2);
    a.metrics.recordRevenue(40, books);
    const final = await snapshot(a, 0, true);
    expect(final.keys).toHaveLength(0);
    expect(aggregate.apply(final)).toBe(false);

    expect(aggregate.isRetired('a')).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    const failures: Record<string, number> = {};
    aggregate.forEachFailure((reason, count) => (failures[reason] = count));
    // Refused (invalid), and what it carried is lost, as for a worker that died without a final snapshot.
    expect(failures).toEqual({ invalid: 1, exited: 1 });
    const text = exposition(aggregate);
    // Its revenue stays at its last accepted numbers; its rolling revenue minute (a gauge) leaves with it.
    expect(value(text, revenue)).toBe(800);
    expect(value(text, perMinute)).toBe(300);
    await Promise.all([a, b].map((w) => w.provider.shutdown()));
  });

  it("sums a source's series that differ only in a value's type ({code: 200} and {code: '200'}) into one", async () => {
    // An app's own instrument recorded with a number in one place and a string in another: the worker's SDK keeps
    // two series, which the exposition writes with the same labels; the primary holds them as one.
    const a = worker('a');
    const b = worker('b');
    const ofA = a.provider.getMeter('app').createCounter('responses');
    const ofB = b.provider.getMeter('app').createCounter('responses');
    ofA.add(3, { code: 200 });
    ofA.add(5, { code: '200' });
    ofB.add(7, { code: 200 });
    const aggregate = new ClusterAggregate();
    expect(aggregate.apply(await snapshot(a, 1))).toBe(true);
    expect(aggregate.apply(await snapshot(b, 1))).toBe(true);
    expect(value(exposition(aggregate), 'responses_total', { code: '200' })).toBe(3 + 5 + 7);
    expect(exposition(aggregate).samples.filter((s) => s.name === 'responses_total')).toHaveLength(1);
    // Later rounds: neither series is taken for the other going backwards.
    ofA.add(1, { code: 200 });
    expect(aggregate.apply(await snapshot(a, 2))).toBe(true);
    expect(aggregate.apply(await snapshot(a, 3))).toBe(true);
    expect(value(exposition(aggregate), 'responses_total', { code: '200' })).toBe(4 + 5 + 7);
    const failures: Record<string, number> = {};
    aggregate.forEachFailure((reason, count) => (failures[reason] = count));
    expect(failures).toEqual({});
    // A source that exits keeps both in the totals.
    aggregate.retire('a', true);
    expect(value(exposition(aggregate), 'responses_total', { code: '200' })).toBe(4 + 5 + 7);
    await Promise.all([a, b].map((w) => w.provider.shutdown()));
  });

  it('steady-state snapshots carry ids and numbers, not labels', async () => {
    const a = worker('a');
    for (let i = 0; i < 50; i++)
      a.metrics.recordFunnelStep(`step_${i}`, { source: 'ads', deviceType: 'mobile' });
    const first = JSON.stringify(await snapshot(a, 1));
    const second = JSON.stringify(await snapshot(a, 2));
    expect(first).toContain('step_49');
    expect(second).not.toContain('step_49');
    expect(second.length).toBeLessThan(first.length / 3);
    await a.provider.shutdown();
  });

  it('extensions ship their state with every snapshot and hear when a source retires', async () => {
    const accepted: Array<[string, unknown]> = [];
    const retired: string[] = [];
    // Each side has its own registry (as each process has its init's): nothing is shared through a global.
    const sourceSide = new ClusterExtensions();
    const primarySide = new ClusterExtensions();
    sourceSide.add<number[]>({ name: 'test-registers', collect: () => [1, 5, 2] });
    const remove = primarySide.add<number[]>({
      name: 'test-registers',
      accept: (source, payload) => {
        accepted.push([source, payload]);
        return undefined;
      },
      retire: (source) => retired.push(source),
    });
    const a = worker('a', () => NOW, sourceSide);
    const aggregate = new ClusterAggregate({ extensions: primarySide });
    const message = await snapshot(a);
    expect(message.ext).toEqual({ 'test-registers': [1, 5, 2] });
    aggregate.apply(message);
    aggregate.retire('a', true);
    expect(accepted).toEqual([['a', [1, 5, 2]]]);
    expect(retired).toEqual(['a']);
    // A removed extension hears nothing more; an encoder without extensions sends no `ext`.
    remove();
    aggregate.apply({ ...(await snapshot(worker('b', () => NOW, sourceSide))) });
    expect(accepted).toHaveLength(1);
    expect((await snapshot(worker('c'))).ext).toBeUndefined();
    await a.provider.shutdown();
  });
  // Prometheus's created-timestamp zero sits at a series' start: with the aggregate's own start (the primary's
  // boot), a series a worker creates hours later would get a zero too old to anchor its first amount.
  it('starts a series new to the primary at the end of the collection before the one that first saw it', async () => {
    const w = worker('a');
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    w.metrics.recordRevenue(100, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu',
      currency: 'EUR',
    });
    expect(aggregate.apply(await snapshot(w, 1))).toBe(true);
    const first = aggregate.render(resource).resourceMetrics;
    const startOf = (metrics: typeof first, currency: string) => {
      const points = metrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === BUSINESS_METRICS.revenue.name)!.dataPoints;
      return points.find((point) => point.attributes.currency === currency)!.startTime;
    };
    const firstEnd = first.scopeMetrics[0].metrics[0].dataPoints[0].endTime;
    expect(startOf(first, 'EUR')).toEqual(aggregate.startTime);
    w.metrics.recordRevenue(5000, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'apac',
      currency: 'JPY',
    });
    expect(aggregate.apply(await snapshot(w, 2))).toBe(true);
    const second = aggregate.render(resource).resourceMetrics;
    expect(startOf(second, 'JPY')).toEqual(firstEnd);
    // A series keeps its start: a cumulative stream does not restart.
    expect(startOf(second, 'EUR')).toEqual(aggregate.startTime);
    await w.provider.shutdown();
  });
});

describe('cluster aggregate: exemplars', () => {
  const TRACE_A = '4bf92f3577b34da6a3ce929d0e0e4736';
  const TRACE_B = '0af7651916cd43dd8448eb211c80319c';
  const SPAN = '00f067aa0ba902b7';

  /**
   * A hand-written snapshot of `jobs{route="/a"}` (counter, id 0) and `latency{route="/a"}` (id 1, boundaries
   * [10, 100]).
   */
  function message(
    source: string,
    fields: {
      jobs?: number;
      latency?: number[];
      jobsExemplars?: unknown[];
      latencyExemplars?: unknown[];
      exemplarSnapshots?: number;
      epoch?: number;
      firstKey?: number;
    },
  ): SnapshotMessage {
    const { jobs = 1, latency = [1, 0, 0], epoch = 0, firstKey = 0 } = fields;
    const count = latency.reduce((a, b) => a + b, 0);
    return JSON.parse(
      JSON.stringify({
        tag: PROTOCOL_TAG,
        type: 'snapshot',
        version: PROTOCOL_VERSION,
        source,
        round: 1,
        epoch,
        firstKey,
        // Ids 0 (jobs) and 1 (latency): ids are per source, across its families.
        keys: firstKey === 0 ? ['["route","/a"]', '["route","/a"]'] : [],
        scopes: [{ name: 'app' }],
        metrics: [
          {
            scope: 0,
            name: 'jobs',
            description: '',
            unit: '',
            valueType: 1,
            shape: 'counter',
            points: [0, jobs],
            ...(fields.jobsExemplars ? { exemplars: fields.jobsExemplars } : {}),
          },
          {
            scope: 0,
            name: 'latency',
            description: '',
            unit: 'ms',
            valueType: 1,
            shape: 'histogram',
            boundaries: [10, 100],
            points: [1, count, count, 1, 1, ...latency],
            ...(fields.latencyExemplars ? { exemplars: fields.latencyExemplars } : {}),
          },
        ],
        ...(fields.exemplarSnapshots ? { exemplarSnapshots: fields.exemplarSnapshots } : {}),
      }),
    ) as SnapshotMessage;
  }

  /** The rendered points' exemplars: jobs' and latency's, by bucket, as [trace id, value, time] or null. */
  function kept(aggregate: ClusterAggregate) {
    const metrics = aggregate.render(resource).resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const of = (name: string) =>
      (
        metrics.find((metric) => metric.descriptor.name === name)?.dataPoints[0] as
          | { exemplars?: Array<{ traceId: string; value: number; timeUnixMs: number } | undefined> }
          | undefined
      )?.exemplars?.map((e) => (e === undefined ? null : [e.traceId, e.value, e.timeUnixMs]));
    return { jobs: of('jobs'), latency: of('latency') };
  }

  const failuresOf = (aggregate: ClusterAggregate) => {
    const failures: Record<string, number> = {};
    aggregate.forEachFailure((reason, count) => (failures[reason] = count));
    return failures;
  };

  it('keeps, per counter series and per bucket, the latest exemplar any source sent, and renders it', () => {
    const aggregate = new ClusterAggregate();
    expect(
      aggregate.apply(
        message('a', {
          jobsExemplars: [0, 0, TRACE_A, SPAN, 1, NOW],
          latency: [1, 1, 0],
          latencyExemplars: [1, 0, TRACE_A, SPAN, 5, NOW, 1, 1, TRACE_A, SPAN, 50, NOW],
          exemplarSnapshots: 1,
        }),
        NOW,
      ),
    ).toBe(true);
    // b's counter exemplar is older than a's, its bucket-1 exemplar newer, its bucket-2 one the first there.
    expect(
      aggregate.apply(
        message('b', {
          jobsExemplars: [0, 0, TRACE_B, SPAN, 2, NOW - 1],
          latency: [0, 1, 1],
          latencyExemplars: [1, 1, TRACE_B, SPAN, 60, NOW + 1, 1, 2, TRACE_B, SPAN, 500, NOW - 5],
          exemplarSnapshots: 1,
        }),
        NOW,
      ),
    ).toBe(true);
    expect(kept(aggregate)).toEqual({
      jobs: [[TRACE_A, 1, NOW]],
      latency: [
        [TRACE_A, 5, NOW],
        [TRACE_B, 60, NOW + 1],
        [TRACE_B, 500, NOW - 5],
      ],
    });
    // A source that exits leaves them, as it leaves its counts, until a newer one replaces them.
    aggregate.retire('a', true);
    expect(kept(aggregate).jobs).toEqual([[TRACE_A, 1, NOW]]);
    expect(failuresOf(aggregate)).toEqual({});

    const text = serializePrometheus(aggregate.render(resource).resourceMetrics, { format: 'openmetrics' });
    expect(text).toContain(
      `jobs_total{route="/a",otel_scope_name="app"} 2 # {trace_id="${TRACE_A}",span_id="${SPAN}"} 1 ${NOW / 1000}\n`,
    );
    expect(text).toContain(
      `latency_milliseconds_bucket{route="/a",otel_scope_name="app",le="100"} 3 ` +
        `# {trace_id="${TRACE_B}",span_id="${SPAN}"} 60 ${(NOW + 1) / 1000}\n`,
    );
    // The primary's OTLP push writes them from the same points (OTLP/JSON: hex ids, the flat list of a histogram).
    type OtlpPoints = { dataPoints: Array<{ exemplars: Array<{ traceId: string; asDouble: number }> }> };
    const otlp = JSON.parse(
      new TextDecoder().decode(encodeJsonRequest(aggregate.render(resource).resourceMetrics)),
    ) as {
      resourceMetrics: [{ scopeMetrics: [{ metrics: Array<{ sum?: OtlpPoints; histogram?: OtlpPoints }> }] }];
    };
    const pushed = otlp.resourceMetrics[0].scopeMetrics[0].metrics.map((metric) =>
      (metric.sum ?? metric.histogram)!.dataPoints[0].exemplars.map((e) => [e.traceId, e.asDouble]),
    );
    expect(pushed).toEqual([
      [[TRACE_A, 1]],
      [
        [TRACE_A, 5],
        [TRACE_B, 60],
        [TRACE_B, 500],
      ],
    ]);
  });

  it('refuses hostile exemplars one by one, keeps the good ones, counts the snapshot invalid once, never throws', () => {
    const aggregate = new ClusterAggregate();
    const bad: unknown[][] = [
      [1, 0, '0'.repeat(32), SPAN, 5, NOW],
      [1, 0, TRACE_A, '0'.repeat(16), 5, NOW],
      [1, 0, TRACE_A, SPAN, 'NaN', NOW],
      [1, 0, TRACE_A, SPAN, null, NOW],
      [1, 1, TRACE_A, SPAN, 5, NOW],
      [1, 0, TRACE_A, SPAN, 5, NOW + 3_600_000],
      [9, 0, TRACE_A, SPAN, 5, NOW],
      [1, 0, { toString: 'x' }, SPAN, 5, NOW],
    ];
    for (const entry of bad) {
      expect(
        aggregate.apply(
          message('a', {
            latency: [2, 0, 0],
            latencyExemplars: [...entry, 1, 0, TRACE_B, SPAN, 7, NOW - 10],
          }),
          NOW,
        ),
      ).toBe(false);
    }
    expect(failuresOf(aggregate)).toEqual({ invalid: bad.length });
    // Every good one was kept; no bad one ever was (a bad one later in time would have replaced it).
    expect(kept(aggregate).latency).toEqual([[TRACE_B, 7, NOW - 10], null, null]);
    // The numbers of every one of those snapshots were applied.
    expect(kept(aggregate).jobs).toBeUndefined();
  });

  it('refuses a snapshot whose exemplar list breaks the bounds whole, as any snapshot past its bounds', () => {
    const aggregate = new ClusterAggregate();
    const huge = new Array(6 * 10_000).fill(0);
    expect(aggregate.apply(message('a', { jobsExemplars: huge }), NOW)).toBe(false);
    expect(aggregate.apply(message('a', { jobsExemplars: ['x'] }), NOW)).toBe(false);
    expect(failuresOf(aggregate)).toEqual({ invalid: 2 });
    expect(kept(aggregate)).toEqual({ jobs: undefined, latency: undefined });
  });

  it('a lost snapshot with exemplars is noticed by the count, and the full snapshot asked for brings them', async () => {
    const aggregate = new ClusterAggregate();
    const e1 = [0, 0, TRACE_A, SPAN, 1, NOW - 2];
    expect(aggregate.apply(message('a', { jobsExemplars: e1, exemplarSnapshots: 1 }), NOW)).toBe(true);
    // Snapshot 2 (exemplar e2) is lost; snapshot 3 carries none and says 2 carried some.
    expect(aggregate.apply(message('a', { jobs: 3, exemplarSnapshots: 2, firstKey: 2 }), NOW)).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual(['a']);
    // Asked until the full one comes, even by a later snapshot of the same epoch that counts on from there.
    expect(aggregate.apply(message('a', { jobs: 4, exemplarSnapshots: 2, firstKey: 2 }), NOW)).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual(['a']);
    expect(kept(aggregate).jobs).toEqual([[TRACE_A, 1, NOW - 2]]);
    const e2 = [0, 0, TRACE_B, SPAN, 2, NOW - 1];
    expect(
      aggregate.apply(message('a', { jobs: 4, jobsExemplars: e2, exemplarSnapshots: 1, epoch: 1 }), NOW),
    ).toBe(true);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    expect(kept(aggregate).jobs).toEqual([[TRACE_B, 2, NOW - 1]]);
    expect(failuresOf(aggregate)).toEqual({});
  });

  it("carries the store's exemplars from a worker's columns, through a relay's aggregate, to the primary's text", async () => {
    const contextManager = new AsyncLocalStorageContextManager();
    context.setGlobalContextManager(contextManager.enable());
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    try {
      const span = { traceId: TRACE_A, spanId: SPAN, traceFlags: TraceFlags.SAMPLED };
      context.with(trace.setSpanContext(context.active(), span), () => {
        handle.metrics.recordFunnelStep('checkout', { source: 'ads', deviceType: 'mobile' });
        handle.metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
      });
      handle.metrics.recordFunnelStep('cart_view', { source: 'ads', deviceType: 'mobile' });
      await handle.forceFlush();
      const result = { resourceMetrics: exporter.getMetrics().at(-1)!, errors: [] };
      // A worker thread's snapshot, from the columns, to its node:cluster worker's relay...
      const relay = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
      const thread = new SnapshotEncoder('thread', [], storeCollectionOf);
      expect(relay.apply(JSON.parse(JSON.stringify(thread.encode(result, 1))))).toBe(true);
      // ...whose aggregate (MetricData) the worker sends its primary.
      const primary = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
      const worker = new SnapshotEncoder('worker');
      expect(primary.apply(JSON.parse(JSON.stringify(worker.encode(relay.render(resource), 1))))).toBe(true);
      const text = serializePrometheus(primary.render(resource).resourceMetrics, { format: 'openmetrics' });
      const exemplarLines = text.split('\n').filter((line) => line.includes(TRACE_A));
      expect(exemplarLines).toEqual([
        expect.stringMatching(/^business_funnel_step_total\{[^}]*step="checkout"[^}]*\} 1 # \{trace_id="/),
        expect.stringMatching(/^business_revenue_cents_total\{[^}]*\} 2599 # \{trace_id="/),
        expect.stringMatching(/^business_order_value_cents_bucket\{[^}]*le="5000"\} 1 # \{trace_id="/),
      ]);
      for (const line of exemplarLines) expect(line).toContain(`span_id="${SPAN}"}`);
      // The next round: nothing changed, so no exemplar travels, and the primary still shows them.
      const steady = worker.encode(relay.render(resource), 2);
      expect(steady.metrics.some((metric) => metric.exemplars !== undefined)).toBe(false);
      expect(primary.apply(JSON.parse(JSON.stringify(steady)))).toBe(true);
      expect(
        serializePrometheus(primary.render(resource).resourceMetrics, { format: 'openmetrics' }),
      ).toContain(`trace_id="${TRACE_A}"`);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
      context.disable();
    }
  });
});
