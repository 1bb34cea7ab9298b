/**
 * Cluster mode against broken and hostile workers, with real forked processes (tests/cluster/fixtures/peers-app.ts):
 * malformed snapshots on the cluster IPC channel are refused and counted, never thrown in the primary; numbers a
 * worker sends are checked; replaced workers cannot grow the aggregate past the single-process series cap, and
 * the totals stay exact; the user-hash key reaches forked workers through their own environment only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PROMETHEUS_FAMILIES } from '../../src';
import { PROTOCOL_TAG, PROTOCOL_VERSION } from '../../src/cluster/protocol';
import { parseExposition, type ExpositionSample as Sample } from '../support/exposition';
import { bundle, cleanUpBundles } from './support/bundle';

const MAX_SERIES = 200;
const funnel = PROMETHEUS_FAMILIES.funnelStep;

/** The fixture's primary, driven by command lines on its stdin. */
class Primary {
  readonly metricsUrl: Promise<string>;
  private readonly process: ChildProcess;
  private stderr = '';
  private readonly lines: string[] = [];
  private consumed = 0;
  private readonly waiting: Array<() => void> = [];

  constructor() {
    this.process = spawn(process.execPath, [bundle('peers-app'), '1000', String(MAX_SERIES)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    let partial = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiting.splice(0)) wake();
    });
    this.metricsUrl = this.nextLine('METRICS').then((line) => line.slice('METRICS '.length));
  }

  /** Sends one command line; resolves with the answer, which must start with `answer`. */
  command(line: string, answer: string): Promise<string> {
    this.process.stdin!.write(`${line}\n`);
    return this.nextLine(answer);
  }

  /** What the primary wrote on stderr so far (its diag warnings). */
  get warnings(): string {
    return this.stderr;
  }

  async scrape(): Promise<readonly Sample[]> {
    const response = await fetch(await this.metricsUrl);
    expect(response.status).toBe(200);
    return parseExposition(await response.text()).samples;
  }

  /** Ends stdin: the primary kills its workers and exits. */
  async stop(): Promise<void> {
    running.delete(this);
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.stdin!.end();
    await exited;
  }

  private async nextLine(prefix: string): Promise<string> {
    const deadline = Date.now() + 60_000;
    while (this.consumed >= this.lines.length) {
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(
          `the primary exited (${this.process.exitCode ?? this.process.signalCode}): ${this.stderr}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`no answer ${prefix} within 60 s; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    const line = this.lines[this.consumed++];
    expect(line.startsWith(prefix)).toBe(true);
    return line;
  }
}

const running = new Set<Primary>();
afterAll(async () => {
  await Promise.all([...running].map((primary) => primary.stop()));
  cleanUpBundles();
});

const total = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
const invalid = (samples: readonly Sample[]) =>
  total(samples, 'business_metrics_cluster_collection_failures_total', { reason: 'invalid' });

/** A snapshot as a worker of this package version would send it, with `change` applied. */
function snapshot(change: (message: Record<string, unknown>) => void, source = 'raw-peer'): string {
  const message: Record<string, unknown> = {
    tag: PROTOCOL_TAG,
    type: 'snapshot',
    version: PROTOCOL_VERSION,
    source,
    round: 0,
    epoch: 0,
    firstKey: 0,
    keys: [JSON.stringify(['step', 'raw', 'source', 'peer'])],
    scopes: [{ name: 'raw-peer-scope' }],
    metrics: [
      {
        scope: 0,
        name: 'raw_peer_steps',
        description: '',
        unit: '',
        valueType: 1,
        shape: 'counter',
        points: [0, 1],
      },
    ],
  };
  change(message);
  return JSON.stringify(message);
}

const metric = (message: Record<string, unknown>) => (message.metrics as Record<string, unknown>[])[0];

describe('cluster mode under broken and hostile workers (real processes)', () => {
  let primary: Primary;
  beforeAll(() => {
    primary = new Primary();
  });

  it('refuses and counts every malformed snapshot; the primary never throws and keeps serving', async () => {
    const malformed: Array<[string, string]> = [
      ['a key that is not JSON', snapshot((m) => (m.keys = ['{not json']))],
      ['the key "null"', snapshot((m) => (m.keys = ['null']))],
      ['keys as a string', snapshot((m) => (m.keys = '["step","raw"]'))],
      ['metrics: null', snapshot((m) => (m.metrics = null))],
      ['scopes: null', snapshot((m) => (m.scopes = null))],
      ['points: null', snapshot((m) => (metric(m).points = null))],
      ['a counter of -1e15', snapshot((m) => (metric(m).points = [0, -1e15]))],
      ["a counter of 'NaN'", snapshot((m) => (metric(m).points = [0, 'NaN']))],
      ["a counter of 'hello'", snapshot((m) => (metric(m).points = [0, 'hello']))],
      [
        'a histogram with boundaries: null',
        snapshot((m) => {
          Object.assign(metric(m), { shape: 'histogram', boundaries: null, points: [0, 1, 5, 5, 5, 1] });
        }),
      ],
      [
        'a hello without a source',
        JSON.stringify({ tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION }),
      ],
      ['a message that is a bare tag', JSON.stringify({ tag: PROTOCOL_TAG })],
    ];
    let refused = invalid(await primary.scrape());
    for (const [what, message] of malformed) {
      expect(await primary.command(`raw ${message}`, 'SENT')).toBe('SENT');
      const samples = await primary.scrape(); // the primary is alive and serving
      expect({ what, invalid: invalid(samples) }).toEqual({ what, invalid: refused + 1 });
      refused++;
      // Nothing of it reached the aggregate.
      expect(samples.filter((s) => s.name.startsWith('raw_peer'))).toEqual([]);
    }
    // Said once, with the first refusal's field and rule; the rest of the minute is counted, not repeated. The
    // first is a bad series key, which refuses only its own series.
    const said = primary.warnings
      .split('\n')
      .filter((line) => /cluster (message|snapshot) refused/.test(line));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(
      'cluster snapshot refused in part: snapshot.keys[0]: must be JSON (1 series left out, the rest applied',
    );
  });

  it('a well-formed snapshot from the same worker is still accepted, and one under a source id not its own is refused', async () => {
    const before = invalid(await primary.scrape());
    // A new epoch: the refused snapshots above already used epoch 0's first keys.
    await primary.command(`raw ${snapshot((m) => (m.epoch = 1), 'raw-peer')}`, 'SENT');
    let samples = await primary.scrape();
    expect(total(samples, 'raw_peer_steps_total')).toBe(1);
    expect(invalid(samples)).toBe(before);
    // The worker already speaks as `raw-peer`: a second identity from the same process is refused.
    await primary.command(`raw ${snapshot((m) => (metric(m).points = [0, 1000]), 'someone-else')}`, 'SENT');
    samples = await primary.scrape();
    expect(total(samples, 'raw_peer_steps_total')).toBe(1);
    expect(invalid(samples)).toBe(before + 1);
  });

  it("a snapshot with one bad series key: that series is left out and counted, the worker's other series are applied", async () => {
    const before = invalid(await primary.scrape());
    const message = snapshot((m) => {
      m.epoch = 2;
      m.keys = [JSON.stringify(['step', 'kept']), JSON.stringify(['step', { not: 'a value' }])];
      metric(m).points = [0, 5, 1, 7];
    });
    await primary.command(`raw ${message}`, 'SENT');
    const samples = await primary.scrape();
    expect(total(samples, 'raw_peer_steps_total', { step: 'kept' })).toBe(5);
    expect(samples.filter((s) => s.name === 'raw_peer_steps_total').map((s) => s.labels.step)).toEqual([
      'raw',
      'kept',
    ]);
    expect(invalid(samples)).toBe(before + 1);
  });

  it('replaced workers, each with fresh label caps and hostile sources: the aggregate keeps the single-process series cap, with exact totals', async () => {
    const primary = new Primary();
    const workers = 12;
    const steps = 60;
    expect(await primary.command(`recorders ${workers} ${steps}`, 'REPLACED')).toBe(`REPLACED ${workers}`);
    const samples = await primary.scrape();
    const series = samples.filter((s) => s.name === funnel);
    // Each worker alone keeps 50 distinct sources (the `source` cap) plus `other`: 12 x 51 series without a cap.
    expect(series.length).toBeLessThanOrEqual(MAX_SERIES + 1);
    expect(series.filter((s) => s.labels.step === 'other' && s.labels.source === 'other')).toHaveLength(1);
    expect(total(samples, funnel)).toBe(workers * steps);
    expect(total(samples, 'business_metrics_series_overflow_total', { metric: funnel })).toBeGreaterThan(0);
    await primary.stop();
  });

  it('the user-hash key reaches forked workers through their own environment, never the primary’s process.env, and nothing is left after shutdown', async () => {
    const primary = new Primary();
    expect(await primary.command('child-env', 'CHILD-ENV')).toBe('CHILD-ENV null');
    const workerKey = JSON.parse(
      (await primary.command('worker-env', 'WORKER-ENV')).slice('WORKER-ENV '.length),
    ) as string | null;
    expect(typeof workerKey).toBe('string');
    expect(workerKey!.length).toBeGreaterThanOrEqual(32);
    const again = JSON.parse(
      (await primary.command('worker-env', 'WORKER-ENV')).slice('WORKER-ENV '.length),
    ) as string;
    expect(again).toBe(workerKey); // one key for every worker of this primary
    expect(await primary.command('shutdown', 'SHUTDOWN')).toBe('SHUTDOWN null');
    expect(await primary.command('worker-env', 'WORKER-ENV')).toBe('WORKER-ENV null');
    expect(await primary.command('child-env', 'CHILD-ENV')).toBe('CHILD-ENV null');
    await primary.stop();
  });
});
