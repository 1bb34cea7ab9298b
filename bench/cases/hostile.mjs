/**
 * A cardinality attack: `values` distinct hostile label values (one per call, as a bot cycling a `utm_source`
 * would send) across `scrapes` Prometheus scrapes, through the package's default limits.
 *
 * Owns: the attack, the heap figures (after full GCs: at the first scrape, at 10% and at the end) and the
 * self-check that every call was counted, every refused value was counted as a relabel, and the series stayed
 * within the cap. Must not touch: the guard's policies (it measures the defaults).
 */
import { loadPackage, parseExposition, sampleTotals } from '../lib/workload.mjs';
import { serveCase, settleHeap } from '../lib/child.mjs';

const pkg = loadPackage();
const { BUSINESS_METRICS: M, prometheusFamilyName, DEFAULT_LIMITS } = pkg;
const FAMILY = prometheusFamilyName(M.funnelStep);
const MB = 2 ** 20;

serveCase(async ({ values, scrapes }) => ({
  async check() {
    const telemetry = pkg.initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      serviceName: 'bench',
      env: {},
    });
    const metrics = telemetry.metrics;
    metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    await metrics.getMetrics();
    const heapStart = await settleHeap();
    let heapAtTenth = heapStart;
    const perScrape = Math.ceil(values / scrapes);
    let sent = 0;
    const began = performance.now();
    let text = '';
    for (let scrape = 0; scrape < scrapes; scrape++) {
      for (let i = 0; i < perScrape && sent < values; i++, sent++) {
        metrics.recordFunnelStep('cart_view', { source: `bot-${sent}-${scrape}`, deviceType: 'desktop' });
      }
      text = await metrics.getMetrics();
      if (scrape === Math.floor(scrapes / 10) - 1) heapAtTenth = await settleHeap();
    }
    const elapsedMs = performance.now() - began;
    const heapEnd = await settleHeap();
    await telemetry.shutdown();

    const samples = parseExposition(text);
    const funnel = samples.filter((s) => s.name === FAMILY);
    const admittedBots = new Set(
      funnel.map((s) => /source="([^"]*)"/.exec(s.labels)?.[1]).filter((v) => v?.startsWith('bot-')),
    ).size;
    const relabelled = samples
      .filter(
        (s) => s.name === 'business_metrics_label_overflow_total' && s.labels.includes('label="source"'),
      )
      .reduce((sum, s) => sum + s.value, 0);
    const total = sampleTotals(samples, FAMILY).sum;
    const cap = DEFAULT_LIMITS.maxSeriesPerMetric;
    const figures = {
      values,
      scrapes,
      series: funnel.length,
      cap,
      admittedBots,
      relabelled,
      growthMb: (heapEnd - heapStart) / MB,
      lateGrowthMb: (heapEnd - heapAtTenth) / MB,
      heapEndMb: heapEnd / MB,
      nsPerHostileCall: (elapsedMs * 1e6) / values,
    };
    // Bounded: after the first tenth of the attack the heap no longer grows with new values (1 MB of slack for
    // GC noise), whatever the number of values.
    figures.bounded = figures.lateGrowthMb < 1 && funnel.length <= cap + 1;
    const wrong = [];
    if (total !== values + 1) wrong.push(`funnel total ${total}, expected ${values + 1}`);
    if (admittedBots + relabelled !== values)
      wrong.push(`admitted ${admittedBots} + relabelled ${relabelled} != ${values} hostile values`);
    if (funnel.length > cap + 1) wrong.push(`${funnel.length} series, cap ${cap}`);
    const detail = `${figures.series} series (cap ${cap}), ${admittedBots} hostile values admitted, ${relabelled} relabelled "other"; heap +${figures.growthMb.toFixed(2)} MB overall, +${figures.lateGrowthMb.toFixed(2)} MB after the first tenth; ${figures.nsPerHostileCall.toFixed(0)} ns per hostile call`;
    return wrong.length ? { ok: false, detail: wrong.join('; ') } : { ok: true, detail, figures };
  },
}));
