/**
 * The aggregate under broken and hostile sources, in one process: real BusinessMetrics recordings through the
 * wire format (JSON, as cluster IPC carries them) stand in for workers, and hand-made snapshots for hostile ones.
 * Series caps as in one process with exact totals, folds counted; counters and histograms never go backwards,
 * whatever a source sends; one label set is one series however sources spell it; bounded memory of retired
 * sources; and every mutation of a real snapshot the rules let through is applied without throwing.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BusinessMetrics, PROMETHEUS_FAMILIES, serializePrometheus } from '../../src';
import { ClusterAggregate, MAX_SOURCES, RETIRED_MEMORY } from '../../src/cluster/aggregate';
import { MAX_KEYS_PER_SOURCE } from '../../src/cluster/validate';
import { SnapshotEncoder } from '../../src/cluster/encode';
import { PROTOCOL_TAG, PROTOCOL_VERSION, type SnapshotMessage } from '../../src/cluster/protocol';
import { PACKAGE_GAUGE_RULES } from '../../src/cluster/rules';
import { parseExposition } from '../support/exposition';
import { TestReader } from '../support/collect';
import { mutated, pathsOf } from '../support/mutations';

const resource = resourceFromAttributes({ 'service.name': 'primary' });
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const funnel = PROMETHEUS_FAMILIES.funnelStep;
const revenue = PROMETHEUS_FAMILIES.revenue;

interface FakeWorker {
  metrics: BusinessMetrics;
  snapshot(round?: number, final?: boolean): Promise<SnapshotMessage>;
  shutdown(): Promise<void>;
  encoder: SnapshotEncoder;
}

function worker(name: string): FakeWorker {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const encoder = new SnapshotEncoder(name);
  return {
    metrics: new BusinessMetrics(provider.getMeter('otel-business-metrics'), { now: () => NOW }),
    encoder,
    async snapshot(round = 1, final = false) {
      const message = encoder.encode(await reader.collect(), round, final);
      return JSON.parse(JSON.stringify(message)) as SnapshotMessage;
    },
    shutdown: () => provider.shutdown(),
  };
}

const samplesOf = (aggregate: ClusterAggregate) =>
  parseExposition(serializePrometheus(aggregate.render(resource).resourceMetrics)).samples;
const total = (aggregate: ClusterAggregate, name: string) =>
  samplesOf(aggregate)
    .filter((s) => s.name === name)
    .reduce((sum, s) => sum + s.value, 0);
const invalid = (aggregate: ClusterAggregate) => {
  let count = 0;
  aggregate.forEachFailure((reason, n) => (count += reason === 'invalid' ? n : 0));
  return count;
};

/** A counter snapshot of a hostile source: one series per key, the given values. */
function counterSnapshot(
  source: string,
  keys: unknown[][],
  values: unknown[],
  extra: Partial<SnapshotMessage> = {},
): SnapshotMessage {
  return {
    tag: PROTOCOL_TAG,
    type: 'snapshot',
    version: PROTOCOL_VERSION,
    source,
    round: 1,
    epoch: 0,
    firstKey: 0,
    keys: keys.map((entries) => JSON.stringify(entries)),
    scopes: [{ name: 'peer' }],
    metrics: [
      {
        scope: 0,
        name: 'peer_steps',
        description: '',
        unit: '',
        valueType: 1,
        shape: 'counter',
        points: values.flatMap((value, id) => [id, value]) as SnapshotMessage['metrics'][0]['points'],
      },
    ],
    ...extra,
  } as SnapshotMessage;
}

describe('aggregate series caps', () => {
  it('replaced workers cannot grow a family past maxSeriesPerMetric: later label sets fold into the all-other series, exactly, and are counted', async () => {
    const folded: string[] = [];
    const aggregate = new ClusterAggregate({
      gauges: PACKAGE_GAUGE_RULES,
      maxSeriesPerMetric: 200,
      onSeriesFolded: (family, max) => {
        expect(max).toBe(200);
        folded.push(family);
      },
    });
    let recorded = 0;
    for (let k = 0; k < 12; k++) {
      const w = worker(`w${k}`);
      // 60 hostile utm_source values: the worker's own cap keeps 50 and relabels the rest `other`.
      for (let i = 0; i < 60; i++) {
        w.metrics.recordFunnelStep('cart_view', { source: `w${k}-s${i}`, deviceType: 'mobile' });
        recorded++;
      }
      expect(aggregate.apply(await w.snapshot(1, true))).toBe(true);
      await w.shutdown();
    }
    const series = samplesOf(aggregate).filter((s) => s.name === funnel);
    expect(series).toHaveLength(201);
    expect(aggregate.seriesCount('business_funnel_step')).toBe(201);
    expect(series.filter((s) => s.labels.step === 'other' && s.labels.source === 'other')).toHaveLength(1);
    expect(total(aggregate, funnel)).toBe(recorded);
    // 12 workers x 50 sources of their own, plus the `source="other"` series they share: 601 label sets, 200
    // kept; each other one folded once.
    expect(folded).toHaveLength(12 * 50 + 1 - 200);
    expect(new Set(folded)).toEqual(new Set([funnel])); // named as the single-process overflow count names it
  });

  it('one label set is one series however sources order or type its values (no duplicate lines in a scrape)', () => {
    const aggregate = new ClusterAggregate();
    aggregate.apply(counterSnapshot('a', [['step', 'cart', 'n', 1]], [2]));
    aggregate.apply(counterSnapshot('b', [['n', '1', 'step', 'cart']], [3]));
    const samples = samplesOf(aggregate).filter((s) => s.name === 'peer_steps_total');
    expect(samples).toHaveLength(1);
    expect(samples[0].value).toBe(5);
  });
});

describe('aggregate numbers from peers', () => {
  it('refuses a counter that goes backwards, keeps the rest of the snapshot, and counts it', () => {
    const aggregate = new ClusterAggregate();
    const keys = [
      ['k', 'a'],
      ['k', 'b'],
    ];
    expect(aggregate.apply(counterSnapshot('s', keys, [10, 10]))).toBe(true);
    const next = counterSnapshot('s', [], [4, 12], { firstKey: 2 });
    expect(aggregate.apply(next)).toBe(false);
    expect(invalid(aggregate)).toBe(1);
    expect(total(aggregate, 'peer_steps_total')).toBe(10 + 12);
  });

  it('refuses -1e15, NaN and "hello" for a counter; refuses a histogram whose buckets do not add up', () => {
    const aggregate = new ClusterAggregate();
    for (const bad of [-1e15, 'NaN', 'hello', 'Inf']) {
      expect(aggregate.apply(counterSnapshot(`s-${String(bad)}`, [['k', 'a']], [bad]))).toBe(false);
    }
    const histogram = counterSnapshot('h', [['k', 'a']], []);
    histogram.metrics[0] = {
      ...histogram.metrics[0],
      shape: 'histogram',
      boundaries: [10],
      points: [0, 3, 30, 1, 20, 1, 1],
    };
    expect(aggregate.apply(histogram)).toBe(false);
    expect(invalid(aggregate)).toBe(5);
    expect(samplesOf(aggregate).filter((s) => s.name.startsWith('peer_steps'))).toEqual([]);
  });

  it("leaves out a series whose key breaks a rule, applies the source's other series, and counts it once per snapshot", () => {
    const aggregate = new ClusterAggregate();
    const message = counterSnapshot('s', [['k', 'a'], [], ['k', 'c']], [10, 100, 30]);
    // A label name the rules refuse, as a buggy or hostile worker could send it.
    message.keys[1] = JSON.stringify(['', 'x']);
    expect(aggregate.apply(message)).toBe(false);
    expect(invalid(aggregate)).toBe(1);
    const series = () =>
      samplesOf(aggregate)
        .filter((s) => s.name === 'peer_steps_total')
        .map((s) => [s.labels.k, s.value]);
    expect(series()).toEqual([
      ['a', 10],
      ['c', 30],
    ]);
    // Later snapshots name the series by id only: the refused one stays out (and counted), the others move on,
    // and no full snapshot is asked for (its key would be the same).
    expect(aggregate.apply(counterSnapshot('s', [], [11, 200, 31], { firstKey: 3 }))).toBe(false);
    expect(invalid(aggregate)).toBe(2);
    expect(aggregate.sourcesNeedingFull()).toEqual([]);
    expect(series()).toEqual([
      ['a', 11],
      ['c', 31],
    ]);
  });

  it('still refuses whole a snapshot past a bound: more keys than one source may announce', () => {
    const aggregate = new ClusterAggregate();
    const message = counterSnapshot('s', [['k', 'a']], [10], {
      keys: new Array<string>(MAX_KEYS_PER_SOURCE + 1).fill(JSON.stringify(['k', 'a'])),
    });
    expect(aggregate.apply(message)).toBe(false);
    expect(invalid(aggregate)).toBe(1);
    expect(total(aggregate, 'peer_steps_total')).toBe(0);
  });

  it('a source that restarts its numbering with fewer series takes nothing out of the totals', () => {
    const aggregate = new ClusterAggregate();
    aggregate.apply(
      counterSnapshot(
        's',
        [
          ['k', 'a'],
          ['k', 'b'],
        ],
        [10, 20],
      ),
    );
    // A new epoch that only mentions `b`, lower than before: `a` stays counted, `b` is refused.
    expect(aggregate.apply(counterSnapshot('s', [['k', 'b']], [5], { epoch: 1 }))).toBe(false);
    expect(total(aggregate, 'peer_steps_total')).toBe(30);
    expect(aggregate.apply(counterSnapshot('s', [['k', 'b']], [25], { epoch: 2 }))).toBe(true);
    expect(total(aggregate, 'peer_steps_total')).toBe(35);
  });
});

describe('aggregate memory of sources', () => {
  it('remembers the most recent retired sources (a late snapshot of one is ignored) and no more than RETIRED_MEMORY', () => {
    const aggregate = new ClusterAggregate();
    for (let i = 0; i <= RETIRED_MEMORY; i++) aggregate.retire(`gone-${i}`, true);
    const late = counterSnapshot(`gone-${RETIRED_MEMORY}`, [['k', 'a']], [99]);
    expect(aggregate.apply(late)).toBe(false);
    expect(total(aggregate, 'peer_steps_total')).toBe(0);
  });

  it(`accepts at most ${MAX_SOURCES} live sources`, () => {
    const aggregate = new ClusterAggregate();
    for (let i = 0; i < MAX_SOURCES; i++) aggregate.apply(counterSnapshot(`s${i}`, [['k', 'a']], [1]));
    expect(aggregate.apply(counterSnapshot('one-too-many', [['k', 'a']], [1]))).toBe(false);
    expect(total(aggregate, 'peer_steps_total')).toBe(MAX_SOURCES);
  });
});

describe('aggregate fuzz', () => {
  it('applies every mutation of a real snapshot without throwing; totals never go down', async () => {
    const w = worker('fuzzed');
    w.metrics.recordFunnelStep('cart_view', { source: 'ads', deviceType: 'mobile' });
    w.metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    w.metrics.recordConversion('purchase', {
      source: 'ads',
      deviceType: 'mobile',
      sessionStartTime: NOW - 5000,
    });
    w.metrics.updateActiveUsers('daily', { pro: 3 });
    const base = await w.snapshot();
    await w.shutdown();
    const aggregate = new ClusterAggregate({ gauges: PACKAGE_GAUGE_RULES });
    expect(aggregate.apply(base)).toBe(true);
    let last = total(aggregate, revenue);
    const wrong: unknown[] = [null, -1, 1e300, -1e15, 1.5, 'NaN', 'Inf', 'x', [], {}, true, 2 ** 53];
    let tried = 0;
    for (const path of pathsOf(base)) {
      for (const value of wrong) {
        const message = mutated(base, path, value);
        tried++;
        expect(() => aggregate.apply(message)).not.toThrow();
        const text = serializePrometheus(aggregate.render(resource).resourceMetrics);
        const now = parseExposition(text)
          .samples.filter((s) => s.name === revenue)
          .reduce((sum, s) => sum + s.value, 0);
        expect(now).toBeGreaterThanOrEqual(last);
        last = now;
      }
    }
    expect(tried).toBeGreaterThan(500);
  });
});
