/**
 * A real Prometheus 2.42 scrapes the reader: proves the exposition (including the `# UNIT` comment lines the
 * OTel JS exporters write, escaped label values, and bearer auth) is what Prometheus itself ingests, and that
 * points the SDK keeps apart but Prometheus reads as one series (`{code: 200}`, `{code: '200'}`, also from two
 * instruments whose names print one family) arrive whole.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusPullReader } from '../../../src/exporters/prometheus';
import { requireBinary } from '../../support/binaries';
import { startPrometheus, type PrometheusServer } from '../../support/prometheus-server';
import { createWorkload, METER_NAME, type Workload } from './fixture';
import { waitUntil } from '../../support/wait';

const prometheusBinary = requireBinary('prometheus', 'apt-get install prometheus');
const describeWithPrometheus = prometheusBinary ? describe : describe.skip;

interface QueryResult {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}
interface TargetsResult {
  data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> };
}
interface MetadataResult {
  data: Record<string, Array<{ type: string; help: string; unit: string }>>;
}

const TOKEN = 'scrape-token-42';
const NASTY_VALUES = ['say "hi"', 'C:\\path\\', 'two\nlines', 'ünïcødé ✓ 🛒'];

describeWithPrometheus('Prometheus 2.42 scraping PrometheusPullReader', () => {
  let reader: PrometheusPullReader;
  let provider: MeterProvider;
  let workload: Workload;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    reader = new PrometheusPullReader({ port: 0, auth: { bearerToken: TOKEN } });
    workload = createWorkload([reader]);
    provider = workload.provider;
    workload.record(2);
    const nasty = provider
      .getMeter(METER_NAME)
      .createCounter('nasty', { unit: '{x}', description: 'Nasty "labels"' });
    NASTY_VALUES.forEach((value, index) => nasty.add(index + 1, { value }));
    // Two series in the SDK (the values' types differ), one label set for Prometheus.
    const typed = provider.getMeter(METER_NAME).createCounter('typed');
    typed.add(3, { code: 200 });
    typed.add(5, { code: '200' });
    // Two instruments whose names print one family (and one scope): the series both have is one sample too.
    provider.getMeter(METER_NAME).createCounter('split.jobs').add(2, { code: '200' });
    provider.getMeter(METER_NAME).createCounter('split_jobs').add(7, { code: 200 });
    await reader.ready;
    const target = `127.0.0.1:${reader.port}`;
    prometheus = await startPrometheus(prometheusBinary!, {
      config: [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: shop',
        `    authorization: { type: Bearer, credentials: "${TOKEN}" }`,
        `    static_configs: [{ targets: ["${target}"] }]`,
        '  - job_name: anonymous',
        `    static_configs: [{ targets: ["${target}"] }]`,
        '',
      ].join('\n'),
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await provider?.shutdown();
  });

  async function query(promql: string): Promise<QueryResult['data']['result']> {
    const body = await prometheus.api<QueryResult>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    expect(body.status).toBe('success');
    return body.data.result;
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    let result: T | undefined;
    await waitUntil(what, async () => (result = await probe()) !== undefined, { timeoutMillis: 20_000 });
    return result!;
  }

  it('ingests every sample with the right values, labels and metadata', async () => {
    const targets = await waitFor('both targets scraped', async () => {
      const body = await prometheus.api<TargetsResult>('/api/v1/targets');
      const active = body.data.activeTargets;
      return active.length === 2 && active.every((t) => t.health !== 'unknown') ? active : undefined;
    });
    const shop = targets.find((t) => t.labels.job === 'shop')!;
    expect([shop.health, shop.lastError]).toEqual(['up', '']);

    expect(
      (await query('http_server_requests_total{http_request_method="GET",job="shop"}'))[0].value[1],
    ).toBe('6');
    expect((await query('http_server_request_duration_seconds_count{job="shop"}'))[0].value[1]).toBe('10');
    const buckets = await query('http_server_request_duration_seconds_bucket{job="shop"}');
    expect(buckets.map((b) => [b.metric.le, b.value[1]]).sort()).toEqual(
      [
        ['0.005', '2'],
        ['0.01', '2'],
        ['0.1', '4'],
        ['1', '6'],
        ['5', '8'],
        ['+Inf', '10'],
      ].sort(),
    );
    expect((await query('queue_active_jobs{job="shop"}'))[0].metric.otel_scope_name).toBe(METER_NAME);
    expect((await query('target_info{job="shop"}'))[0].metric.service_name).toBe('shop');

    const nasty = await query('nasty_total{job="shop"}');
    expect(Object.fromEntries(nasty.map((s) => [s.metric.value, s.value[1]]))).toEqual(
      Object.fromEntries(NASTY_VALUES.map((value, index) => [value, String(index + 1)])),
    );

    // Prometheus asks for OpenMetrics first and gets it: the unit reaches the metadata (a `# UNIT` line is a
    // mere comment in 0.0.4), and a counter's family is named without `_total`.
    const metadata = await prometheus.api<MetadataResult>('/api/v1/metadata');
    expect(metadata.data.http_server_request_duration_seconds).toEqual([
      { type: 'histogram', help: 'Time to serve a request', unit: 'seconds' },
    ]);
    expect(metadata.data.nasty).toEqual([{ type: 'counter', help: 'Nasty "labels"', unit: '' }]);
  });

  it('ingests points whose labels print alike, of one metric or two, as one series holding all of their counts', async () => {
    // Printed as two samples with one label set, Prometheus would keep one of them (a duplicate sample).
    const typed = await waitFor('the typed counter ingested', async () => {
      const result = await query('typed_total{job="shop"}');
      return result.length > 0 ? result : undefined;
    });
    expect(typed.map((s) => [s.metric.code, s.value[1]])).toEqual([['200', '8']]);
    const split = await waitFor('the split counters ingested', async () => {
      const result = await query('split_jobs_total{job="shop"}');
      return result.length > 0 ? result : undefined;
    });
    expect(split.map((s) => [s.metric.code, s.value[1]])).toEqual([['200', '9']]);
  });

  it('refuses the scrape without the bearer token (401 seen by Prometheus)', async () => {
    const anonymous = await waitFor('anonymous target scraped', async () => {
      const body = await prometheus.api<TargetsResult>('/api/v1/targets');
      const target = body.data.activeTargets.find((t) => t.labels.job === 'anonymous');
      return target && target.health !== 'unknown' ? target : undefined;
    });
    expect(anonymous.health).toBe('down');
    expect(anonymous.lastError).toContain('401');
    expect((await query('up{job="anonymous"}'))[0].value[1]).toBe('0');
  });
});
