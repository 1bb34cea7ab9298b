/**
 * Exemplars are kept only for span contexts the OpenTelemetry API calls valid and sampled, and always fit the
 * OpenMetrics limit (128 UTF-8 characters for an exemplar's label names and values together): a context
 * propagated from a hostile request header or a broken tracer can never put a 4 kB "trace id" into the
 * exposition. Real context manager (AsyncLocalStorage), real SDK recording, the package's OpenMetrics output.
 */
import { context, trace, TraceFlags, type Span, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../src';
import { exemplarLabelSetLength, OPENMETRICS_EXEMPLAR_LABELS_MAX } from '../../src/series/exemplars';

const contextManager = new AsyncLocalStorageContextManager();
let telemetry: BusinessMetricsHandle;

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  telemetry = initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    env: {},
  });
});

afterAll(async () => {
  await telemetry.shutdown();
  context.disable();
});

const VALID: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
};

/** Records one funnel step (counter) and one order (histogram) for `region` inside a span with `spanContext`. */
function recordIn(spanContext: SpanContext, region: string): void {
  context.with(trace.setSpanContext(context.active(), spanContext), () => {
    telemetry.metrics.recordFunnelStep('cart_view', { source: region, deviceType: 'mobile' });
    telemetry.metrics.recordRevenue(1999, { productCategory: 'books', paymentMethod: 'card', region });
  });
}

/** The exemplar suffixes (` # {...} value time`) of the lines of `family` whose labels mention `marker`. */
async function exemplarsOf(marker: string): Promise<string[]> {
  const text = await telemetry.metrics.getMetrics('openmetrics');
  return text
    .split('\n')
    .filter((line) => line.includes(`"${marker}"`) && line.includes(' # {'))
    .map((line) => line.slice(line.indexOf(' # {') + 3));
}

describe('exemplars', () => {
  it('keeps the trace of a valid, sampled span context', async () => {
    recordIn(VALID, 'valid_region');
    const exemplars = await exemplarsOf('valid_region');
    expect(exemplars).toHaveLength(2); // the funnel step and the revenue counter (source, region)
    for (const exemplar of exemplars) {
      expect(exemplar).toContain(`trace_id="${VALID.traceId}",span_id="${VALID.spanId}"`);
    }
  });

  it.each([
    ['a 4 kB trace id', { ...VALID, traceId: 'a'.repeat(4096) }],
    ['a trace id of 33 hex digits', { ...VALID, traceId: `${VALID.traceId}0` }],
    ['a trace id that is not hex', { ...VALID, traceId: 'zz'.repeat(16) }],
    ['the all-zero trace id', { ...VALID, traceId: '0'.repeat(32) }],
    ['a span id with a quote and a newline', { ...VALID, spanId: '00f067aa"\n# EOF' }],
    ['the all-zero span id', { ...VALID, spanId: '0'.repeat(16) }],
    ['a trace id that is not a string', { ...VALID, traceId: 42 as unknown as string }],
    ['an unsampled span', { ...VALID, traceFlags: TraceFlags.NONE }],
  ])('keeps no exemplar for %s', async (what, spanContext) => {
    const region = `r_${what.replace(/[^a-z0-9]+/g, '_')}`.slice(0, 60);
    recordIn(spanContext, region);
    const text = await telemetry.metrics.getMetrics('openmetrics');
    // The measurement itself is recorded; only the exemplar is left out.
    expect(text).toContain(`${PROMETHEUS_FAMILIES.revenue}{`);
    expect(text.split('\n').filter((line) => line.includes(`"${region}"`)).length).toBeGreaterThan(0);
    expect(await exemplarsOf(region)).toEqual([]);
  });

  it('keeps no exemplar, and records the measurement, inside a span whose spanContext() throws', async () => {
    const broken = {
      spanContext: () => {
        throw new Error('broken tracer');
      },
    } as unknown as Span;
    context.with(trace.setSpan(context.active(), broken), () => {
      telemetry.metrics.recordFunnelStep('cart_view', { source: 'broken_span', deviceType: 'mobile' });
    });
    const text = await telemetry.metrics.getMetrics('openmetrics');
    expect(text).toMatch(/business_funnel_step_total\{[^}]*source="broken_span"[^}]*\} 1\n/);
    expect(await exemplarsOf('broken_span')).toEqual([]);
    // Recorded, so not counted as dropped either.
    expect(text).not.toContain('reason="internal_error"');
  });

  it('measures label sets in UTF-8 characters against the OpenMetrics limit of 128', () => {
    expect(OPENMETRICS_EXEMPLAR_LABELS_MAX).toBe(128);
    // trace_id (8) + 32 + span_id (7) + 16: what a valid span context needs.
    expect(exemplarLabelSetLength(VALID.traceId, VALID.spanId)).toBe(63);
    // Code points, not UTF-16 units: an astral character counts once.
    expect(exemplarLabelSetLength('😀', 'é')).toBe(8 + 1 + 7 + 1);
  });
});
