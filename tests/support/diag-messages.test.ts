/**
 * The capture itself: a test must read only what the package said, not the API's note about a logger replaced.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { captureDiag } from './diag-messages';

describe('captureDiag', () => {
  afterEach(() => diag.disable());

  it("starts empty when a logger (an earlier test's OTEL_LOG_LEVEL, a capture not stopped) is still installed", () => {
    const left: string[] = [];
    diag.setLogger(
      {
        error: () => undefined,
        warn: (m: string) => left.push(m),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      DiagLogLevel.WARN,
    );
    const first = captureDiag();
    const second = captureDiag();
    expect(first.warnings).toEqual([]);
    expect(second.warnings).toEqual([]);
    expect(left).toEqual([]);
    diag.warn('said once');
    expect(second.warnings).toEqual(['said once']);
    expect(first.warnings).toEqual([]);
    second.stop();
  });
});
