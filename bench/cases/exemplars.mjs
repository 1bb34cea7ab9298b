/**
 * What exemplars cost on the recording path: recordConversion (one counter cell + one histogram cell) with no
 * trace SDK (`ours`: the gate is closed, nothing is looked up), with a context manager registered but no active
 * span (`context-no-span`), and inside an active sampled span (`in-span`). The comparison with the build from
 * before exemplars existed is run.mjs's baseline twin `ours@baseline`:
 * `npm run bench -- --only=exemplars --baseline f2a7393` (target: ours within 5% of it).
 *
 * Owns: those variants and their self-checks (totals exported = calls made; inside a span, the OpenMetrics
 * scrape carries that span's trace id; otherwise no exemplar at all). Must not touch: rounds, statistics,
 * baselines (bench/run.mjs, bench/lib/baseline.mjs).
 */
import {
  conversionTuples,
  expectTotals,
  loadPackage,
  MASK,
  parseExposition,
  require,
  sampleTotals,
} from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

function registerTracing(withProvider) {
  const api = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (!withProvider) return undefined;
  const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
  api.trace.setGlobalTracerProvider(new BasicTracerProvider());
  return api.trace.getTracer('bench');
}

serveCase(async ({ variant }) => {
  if (!['ours', 'context-no-span', 'in-span'].includes(variant)) {
    throw new Error(`no variant ${variant} in row exemplars`);
  }
  const tracer = variant === 'ours' ? undefined : registerTracing(variant === 'in-span');
  const pkg = loadPackage();
  const family = pkg.prometheusFamilyName(pkg.BUSINESS_METRICS.conversions);
  const telemetry = pkg.initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { host: '127.0.0.1', port: 0 },
    serviceName: 'bench',
    env: {},
  });
  await telemetry.ready;
  const { businessMetrics } = pkg;
  const t = conversionTuples();
  const record = (n, from) => {
    for (let i = from; i < from + n; i++) {
      const x = t[i & MASK];
      businessMetrics.recordConversion(x[0], { source: x[1], deviceType: x[2], sessionStartTime: x[3] });
    }
  };
  let traceId;
  return {
    round(n, from) {
      if (tracer === undefined) return record(n, from);
      // One span per round: every measurement of the round runs inside it, as in a request handler.
      tracer.startActiveSpan('round', (span) => {
        traceId = span.spanContext().traceId;
        record(n, from);
        span.end();
      });
    },
    async check(ops) {
      const scrape = (accept) =>
        fetch(telemetry.prometheus.url, { headers: { accept } }).then((response) => response.text());
      const total = sampleTotals(parseExposition(await scrape('text/plain')), family).sum;
      const openMetrics = await scrape('application/openmetrics-text; version=1.0.0');
      const checks = [['conversions_total', total, ops]];
      if (variant === 'in-span')
        checks.push(['exemplar_of_last_span', Number(openMetrics.includes(traceId)), 1]);
      else checks.push(['exemplars', Number(openMetrics.includes('trace_id=')), 0]);
      return expectTotals(checks);
    },
    close: () => telemetry.shutdown(),
  };
});
