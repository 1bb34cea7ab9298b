/**
 * The exemplar gate (src/series/exemplars.ts, cells.ts): without a context manager, a counter's add does not
 * even test for a span (the gate swaps the method itself); a context manager registered after the store exists
 * arms exemplars from the next collection on, and one disabled later disarms them, with every measurement counted
 * throughout. Real AsyncLocalStorage context manager, the package's OpenMetrics output.
 */
import { context, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { LocalCounterCell } from '../../src/series/cells';
import { exemplarGate } from '../../src/series/exemplars';

const SPAN: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
};

let telemetry: BusinessMetricsHandle;

beforeAll(() => {
  context.disable();
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

/** One funnel step for `source`, inside a sampled span when a context manager propagates it. */
function stepInSpan(source: string): void {
  context.with(trace.setSpanContext(context.active(), SPAN), () =>
    telemetry.metrics.recordFunnelStep('cart_view', { source, deviceType: 'mobile' }),
  );
}

/** The funnel-step line of `source` in the OpenMetrics exposition (a collection, which refreshes the gate). */
async function lineOf(source: string): Promise<string> {
  const text = await telemetry.metrics.getMetrics('openmetrics');
  const line = text
    .split('\n')
    .find((l) => l.startsWith('business_funnel_step_total{') && l.includes(source));
  expect(line).toBeDefined();
  return line!;
}

it('opens with a context manager, closes without one, and counts every step either way', async () => {
  const addKeeping = LocalCounterCell.prototype.addKeepingExemplar;
  // Closed: no context manager, so the plain add runs and no exemplar is kept.
  stepInSpan('closed');
  expect(exemplarGate.armed).toBe(false);
  expect(LocalCounterCell.prototype.add).not.toBe(addKeeping);
  expect(await lineOf('closed')).toMatch(/ 1$/);

  // A context manager registered after the store exists: seen at the next collection.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  await lineOf('closed');
  expect(exemplarGate.armed).toBe(true);
  expect(LocalCounterCell.prototype.add).toBe(addKeeping);
  stepInSpan('open');
  stepInSpan('open');
  expect(await lineOf('open')).toContain(` 2 # {trace_id="${SPAN.traceId}",span_id="${SPAN.spanId}"} 1 `);

  // Disabled again: the next collection closes the gate; steps still count, without exemplars.
  context.disable();
  await lineOf('open');
  expect(exemplarGate.armed).toBe(false);
  expect(LocalCounterCell.prototype.add).not.toBe(addKeeping);
  stepInSpan('closed_again');
  expect(await lineOf('closed_again')).toMatch(/ 1$/);
});
