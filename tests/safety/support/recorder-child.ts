/**
 * The recorder fixture (fixtures/recorder.ts) as a child process that records the known workload
 * (fixtures/known-workload.ts) into a real OTLP receiver, and whether the receiver got every value of it: what
 * tests/safety/process.test.ts (shutdown) and tests/lifecycle.test.ts (the signal hooks) share.
 *
 * Owns: that set-up and that comparison. Must not touch: src/.
 */
import {
  attributesOf,
  metricsOf,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedRequest,
} from '../../support/otlp-receiver';
import { EXPECTED_TOTALS } from '../fixtures/known-workload';
import { bundleFixture, cleanUpChildren } from './child';

/**
 * For the enclosing describe block: the recorder fixture bundled once (`recorder`, its path), a fresh OTLP
 * receiver for each test (`receiver`, closed after it), and every child process stopped at the end.
 */
export function useRecorderChild(): { readonly recorder: string; readonly receiver: OtlpReceiver } {
  const context = { recorder: '', receiver: undefined as unknown as OtlpReceiver };
  beforeAll(() => {
    context.recorder = bundleFixture('recorder');
  });
  beforeEach(async () => {
    context.receiver = await startOtlpReceiver();
  });
  afterEach(() => context.receiver.close());
  afterAll(cleanUpChildren);
  return context;
}

/** The latest cumulative total per instrument: counter sums, histogram counts. */
export function latestTotals(requests: ReceivedRequest[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const metric of metricsOf(requests)) {
    if (metric.sum) {
      totals[metric.name] = metric.sum.dataPoints.reduce((s, p) => s + Number(p.asDouble ?? p.asInt ?? 0), 0);
    } else if (metric.histogram) {
      totals[metric.name] = metric.histogram.dataPoints.reduce((s, p) => s + Number(p.count), 0);
    }
  }
  return totals;
}

/** Every instrument of the known workload arrived with its expected total (from `serviceName` only, if given). */
export function expectEveryValue(receiver: OtlpReceiver, serviceName?: string): void {
  const requests =
    serviceName === undefined
      ? receiver.requests
      : receiver.requests.filter((request) =>
          request.body.resourceMetrics.some(
            (rm) => attributesOf(rm.resource.attributes)['service.name'] === serviceName,
          ),
        );
  const totals = latestTotals(requests);
  for (const [name, expected] of Object.entries(EXPECTED_TOTALS))
    expect({ name, total: totals[name] }).toEqual({ name, total: expected });
}
