/**
 * Browser script of `/dashboard`: polls `/dashboard/data` and draws the charts with uPlot (loaded as a global from
 * `/assets/vendor/uPlot.iife.min.js`).
 *
 * Owns: chart layout, formatting and refresh. Must not touch: the numbers themselves (computed server-side from the
 * package's exposition). Exposes `window.__dashboard` so tests can read what the charts hold.
 */
import type uPlotType from 'uplot';
import type { AlignedData, Options, Series } from 'uplot';
import type { DashboardData } from '../server/dashboard-data';

declare const uPlot: typeof uPlotType;

type Data = DashboardData & {
  trouble: { slowCheckoutMs: number; paymentFailureRate: number; brokenVariant: string | null };
};

const REFRESH_MS = 3000;
const PALETTE = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2', '#db2777', '#ca8a04', '#4b5563'];
const charts = new Map<string, uPlotType>();
const categoryKeys = new Map<string, string>();
const state = { data: undefined as Data | undefined, updates: 0, error: undefined as string | undefined };
/** The trace id behind each x position of the time-to-conversion chart ('' where there is no traced point). */
const conversionTraces: string[] = [];
(window as unknown as { __dashboard: unknown }).__dashboard = { charts, state, conversionTraces };

const money = (cents: number) =>
  `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 })}`;
/** Whole units of a currency, e.g. "$241" or "€89". */
const inCurrency = (units: number, currency: string) =>
  units.toLocaleString('en-US', {
    style: 'currency',
    currency,
    minimumFractionDigits: 0,
    maximumFractionDigits: 0,
  });
/** One figure per currency ("$241 · €89"): amounts of different currencies are never added. */
const perCurrency = (totals: Data['totals'], pick: (m: Data['totals']['money'][number]) => number) =>
  totals.money.length === 0 ? '–' : totals.money.map((m) => inCurrency(pick(m), m.currency)).join(' · ');
const setText = (id: string, text: string) => {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
};

// Tick increments for counts: whole numbers only, so a y axis never reads "1, 1, 2, 2".
const INTEGER_INCRS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6,
];

function width(el: HTMLElement): number {
  return Math.max(280, el.clientWidth);
}

/** Create or update a time-series chart. */
function timeChart(
  id: string,
  t: readonly number[],
  series: { label: string; values: readonly (number | null)[]; width?: number }[],
  unit: (v: number) => string,
  integer = false,
): void {
  const el = document.getElementById(id);
  if (!el) return;
  const data = [t, ...series.map((s) => s.values)] as unknown as AlignedData;
  const key = series.map((s) => s.label).join('|');
  const existing = charts.get(id);
  if (existing && categoryKeys.get(id) === key) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  categoryKeys.set(id, key);
  const opts: Options = {
    width: width(el),
    height: 220,
    series: [
      {},
      ...series.map((s, i): Series => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: s.width ?? 2,
        spanGaps: false,
        value: (_u, v) => (v == null ? '–' : unit(v)),
      })),
    ],
    axes: [
      {},
      { values: (_u, splits) => splits.map(unit), size: 60, ...(integer ? { incrs: INTEGER_INCRS } : {}) },
    ],
    scales: { y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
  };
  charts.set(id, new uPlot(opts, data, el));
}

/** Create or update a bar chart over categories (x = category index). */
function barChart(
  id: string,
  labels: readonly string[],
  values: readonly number[],
  label: string,
  format: (v: number) => string,
  annotate?: (i: number) => string,
): void {
  const el = document.getElementById(id);
  if (!el) return;
  const x = labels.map((_, i) => i);
  const data = [x, [...values]] as unknown as AlignedData;
  const key = labels.join('|');
  const existing = charts.get(id);
  if (existing && categoryKeys.get(id) === key) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  categoryKeys.set(id, key);
  const bars = uPlot.paths.bars!({ size: [0.6, 80], align: 0 });
  const opts: Options = {
    width: width(el),
    height: 220,
    // The figures are drawn on the bars; a hover legend would only repeat them.
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: () => [-0.5, labels.length - 0.5] },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.2 : 1] },
    },
    axes: [
      {
        // One tick per category; two-word names wrap onto two lines so neighbours do not overlap.
        splits: () => labels.map((_, i) => i),
        values: (_u, splits) => splits.map((v) => (labels[v] ?? '').replace('_', '\n')),
        gap: 4,
        size: 44,
      },
      { values: (_u, splits) => splits.map(format), size: 50, incrs: INTEGER_INCRS },
    ],
    series: [
      { label: 'step', value: (_u, v) => (v == null ? '' : (labels[v] ?? '')) },
      {
        label,
        fill: 'rgba(37, 99, 235, 0.75)',
        stroke: '#1d4ed8',
        paths: bars,
        points: { show: false },
        value: (_u, v) => (v == null ? '–' : format(v)),
      },
    ],
    hooks: {
      draw: [
        (u) => {
          // Figures on top of the bars: a chart you can read without hovering.
          const ctx = u.ctx;
          ctx.save();
          ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.fillStyle = '#111827';
          ctx.textAlign = 'center';
          const ys = u.data[1] ?? [];
          ys.forEach((v, i) => {
            if (v == null) return;
            const cx = u.valToPos(i, 'x', true);
            const cy = u.valToPos(v, 'y', true) - 6 * devicePixelRatio;
            const extra = annotate?.(i);
            ctx.fillText(extra ? `${format(v)} ${extra}` : format(v), cx, cy);
          });
          ctx.restore();
        },
      ],
    },
  };
  charts.set(id, new uPlot(opts, data, el));
}

function render(data: Data): void {
  const totals = data.totals;
  setText('kpi-orders', String(totals.orders));
  setText(
    'kpi-revenue',
    perCurrency(totals, (m) => m.revenue),
  );
  setText(
    'kpi-refunds',
    perCurrency(totals, (m) => m.refunds),
  );
  setText(
    'kpi-net',
    perCurrency(totals, (m) => m.net),
  );
  setText(
    'kpi-conversion',
    totals.conversionRatePct == null ? '–' : `${totals.conversionRatePct.toFixed(1)}%`,
  );
  setText('kpi-active', String(totals.activeUsersDaily));
  setText(
    'kpi-http',
    `${totals.httpP95Ms == null ? '–' : `${Math.round(totals.httpP95Ms)} ms`} / ${totals.httpErrorRatePct == null ? '–' : `${totals.httpErrorRatePct.toFixed(1)}%`}`,
  );
  const insights = totals.insights;
  const byCurrency = (figures: Readonly<Record<string, number>>) =>
    Object.keys(figures).length === 0
      ? '–'
      : Object.entries(figures)
          .map(([currency, units]) => inCurrency(units, currency))
          .join(' · ');
  const score = (value: number | null) => (value == null ? '–' : value.toFixed(0));
  setText('kpi-score', `${score(insights.checkoutScore)} / ${score(insights.serviceScore)}`);
  setText('kpi-error-cost', byCurrency(insights.errorCostPerMinute));
  setText('kpi-at-risk', byCurrency(insights.revenueAtRiskPerMinute));
  setText(
    'updated',
    `updated ${new Date(data.generatedAt).toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`,
  );
  const banner = document.getElementById('trouble-banner');
  if (banner) {
    const active = [
      data.trouble.slowCheckoutMs > 0 ? `slow checkout (+${data.trouble.slowCheckoutMs} ms)` : '',
      data.trouble.paymentFailureRate > 0
        ? `payment failures (${Math.round(data.trouble.paymentFailureRate * 100)}%)`
        : '',
      data.trouble.brokenVariant ? `variant ${data.trouble.brokenVariant} broken` : '',
    ].filter(Boolean);
    banner.hidden = active.length === 0;
    banner.textContent = active.length
      ? `Trouble injected: ${active.join(', ')}. Checkout errors so far: ${totals.checkoutErrors}.`
      : '';
  }

  barChart(
    'chart-funnel',
    data.funnel.map((f) => f.step),
    data.funnel.map((f) => f.count),
    'count',
    (v) => String(Math.round(v)),
    (i) => {
      const drop = data.funnel[i]?.dropOffPct;
      return drop == null ? '' : `(−${drop.toFixed(0)}%)`;
    },
  );
  const t = data.timeline.t;
  timeChart(
    'chart-conversion',
    t,
    [
      { label: 'all', values: data.timeline.conversionRatePct, width: 3 },
      ...Object.entries(data.timeline.conversionRatePctByVariant).map(([variant, values]) => ({
        label: `variant ${variant}`,
        values,
        width: 1.25,
      })),
    ],
    (v) => `${v.toFixed(1)}%`,
  );
  timeChart(
    'chart-score',
    t,
    [
      { label: 'checkout', values: data.timeline.checkoutScore, width: 3 },
      { label: 'shop', values: data.timeline.serviceScore },
    ],
    (v) => v.toFixed(0),
  );
  timeChart(
    'chart-lost-revenue',
    t,
    Object.entries(data.timeline.lostRevenuePerMinute).map(([label, values]) => ({ label, values })),
    (v) => v.toLocaleString('en-US', { maximumFractionDigits: 2 }),
  );
  timeChart(
    'chart-revenue',
    t,
    Object.entries(data.timeline.revenuePerMinute).map(([regionAndCurrency, values]) => ({
      label: regionAndCurrency,
      values,
    })),
    (v) => v.toLocaleString('en-US', { maximumFractionDigits: 2 }),
  );
  const bounds = data.orderValue.bucketsCents;
  barChart(
    'chart-order-value',
    [...bounds.map((b) => money(b)), 'more'],
    data.orderValue.counts,
    'orders',
    (v) => String(Math.round(v)),
  );
  barChart(
    'chart-features',
    data.features.map((f) => f.name),
    data.features.map((f) => f.count),
    'uses',
    (v) => String(Math.round(v)),
  );
  timeChart(
    'chart-active',
    t,
    Object.entries(data.timeline.activeUsers).map(([tier, values]) => ({ label: tier, values })),
    (v) => String(Math.round(v)),
    true,
  );
  timeChart(
    'chart-http',
    t,
    [
      { label: 'p95 ms', values: data.timeline.httpP95Ms },
      { label: '5xx %', values: data.timeline.httpErrorRatePct },
    ],
    (v) => (v >= 100 ? String(Math.round(v)) : v.toFixed(1)),
  );
  conversionTimeChart(data);
  runtimeChart(data);
}

/**
 * Time to conversion: p50 and p95 over the trailing window, plus one point per traced conversion (an exemplar of
 * business_time_to_conversion_seconds). Hovering a point shows its trace id, linked to the shop's span store.
 * The points have their own x positions (when they were recorded), merged into the snapshot times; the lines skip
 * over those extra positions.
 */
function conversionTimeChart(data: Data): void {
  const id = 'chart-time-to-conversion';
  const el = document.getElementById(id);
  if (!el) return;
  type Row = { p50: number | null; p95: number | null; traced: number | null; trace: string };
  const rows = new Map<number, Row>();
  data.timeline.t.forEach((x, i) =>
    rows.set(x, {
      p50: data.timeline.timeToConversionP50S[i] ?? null,
      p95: data.timeline.timeToConversionP95S[i] ?? null,
      traced: null,
      trace: '',
    }),
  );
  for (const exemplar of data.conversionExemplars) {
    const row = rows.get(exemplar.t) ?? { p50: null, p95: null, traced: null, trace: '' };
    row.traced = exemplar.seconds;
    row.trace = exemplar.traceId;
    rows.set(exemplar.t, row);
  }
  const xs = [...rows.keys()].sort((a, b) => a - b);
  const pick = (key: 'p50' | 'p95' | 'traced') => xs.map((x) => rows.get(x)?.[key] ?? null);
  const aligned = [xs, pick('p50'), pick('p95'), pick('traced')] as unknown as AlignedData;
  conversionTraces.splice(0, conversionTraces.length, ...xs.map((x) => rows.get(x)?.trace ?? ''));
  const existing = charts.get(id);
  if (existing) {
    existing.setData(aligned);
    return;
  }
  const seconds = (v: number) => (v >= 100 ? `${Math.round(v)} s` : `${v.toFixed(1)} s`);
  const shown = (_u: uPlotType, v: number | null) => (v == null ? '–' : seconds(v));
  const caption = document.getElementById('ttc-trace');
  const opts: Options = {
    width: width(el),
    height: 220,
    series: [
      {},
      { label: 'p50', stroke: PALETTE[0], width: 2, spanGaps: true, value: shown },
      { label: 'p95', stroke: PALETTE[2], width: 2, spanGaps: true, value: shown },
      {
        label: 'traced conversion',
        stroke: PALETTE[3],
        paths: () => null,
        points: { show: true, size: 9, fill: PALETTE[3] },
        value: shown,
      },
    ],
    axes: [{}, { values: (_u, splits) => splits.map(seconds), size: 60 }],
    scales: { y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
    hooks: {
      setCursor: [
        (u) => {
          if (!caption) return;
          const idx = u.cursor.idx;
          const trace = idx == null ? '' : (conversionTraces[idx] ?? '');
          caption.replaceChildren();
          if (trace === '') {
            caption.textContent = 'hover a point to see the trace behind it';
            return;
          }
          const link = document.createElement('a');
          link.href = `/traces/${trace}`;
          link.textContent = trace;
          link.className = 'trace-id';
          caption.append('trace ', link);
        },
      ],
    },
  };
  charts.set(id, new uPlot(opts, aligned, el));
}

/** Node runtime metrics beside the business charts (when the app turned `runtimeMetrics` on). */
function runtimeChart(data: Data): void {
  timeChart(
    'chart-runtime',
    data.timeline.t,
    [
      { label: 'event-loop delay p99 (ms)', values: data.timeline.eventLoopDelayP99Ms },
      { label: 'heap used (MB)', values: data.timeline.heapUsedMb },
    ],
    (v) => (v >= 100 ? String(Math.round(v)) : v.toFixed(1)),
  );
}

async function refresh(): Promise<void> {
  try {
    const response = await fetch('/dashboard/data', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = (await response.json()) as Data;
    state.data = data;
    render(data);
    state.updates++;
    state.error = undefined;
  } catch (error) {
    state.error = String(error);
    setText('updated', `update failed: ${state.error}; retrying`);
  }
}

void refresh();
setInterval(() => void refresh(), REFRESH_MS);
window.addEventListener('resize', () => {
  for (const [id, chart] of charts) {
    const el = document.getElementById(id);
    if (el) chart.setSize({ width: width(el), height: 220 });
  }
});
