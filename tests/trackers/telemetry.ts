/**
 * What the tracker tests share: `beforeInit` runs first (trackers used before initBusinessMetrics must record
 * nothing), then a live handle for the enclosing describe block, with a Prometheus reader that serves no port and
 * is shut down after the block. The returned function reads its exposition as Prometheus would.
 *
 * Owns: that set-up. Must not touch: assertions.
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { parseExposition, type Sample } from '../../examples/shop/server/exposition';

export function liveTelemetry(beforeInit: () => void): () => Promise<Sample[]> {
  let telemetry: BusinessMetricsHandle;
  beforeAll(async () => {
    beforeInit();
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    await telemetry.ready;
  });
  afterAll(() => telemetry.shutdown({ timeoutMillis: 2000 }));
  return async () => parseExposition(await telemetry.metrics.getMetrics());
}
