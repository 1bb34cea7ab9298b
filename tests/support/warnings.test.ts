/**
 * src/support/warnings.ts: a repeated warning is said once a minute per key, through a real diag logger, with the
 * number suppressed in between; a suppressed warning builds no text.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { RateLimitedWarnings } from '../../src/support';

function captureWarnings(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const noop = () => undefined;
  const logger: DiagLogger = {
    error: noop,
    info: noop,
    debug: noop,
    verbose: noop,
    warn: (m) => lines.push(m),
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { lines, restore: () => diag.disable() };
}

describe('RateLimitedWarnings', () => {
  it('says each key once a minute, then how many were suppressed', () => {
    const { lines, restore } = captureWarnings();
    try {
      let now = 0;
      const warnings = new RateLimitedWarnings(() => now);
      for (let i = 0; i < 5; i++) warnings.warn('a', 'A failed');
      warnings.warn('b', 'B failed');
      now = 59_999;
      warnings.warn('a', 'A failed');
      now = 60_000;
      warnings.warn('a', 'A failed again');
      expect(lines).toEqual(['A failed', 'B failed', 'A failed again (5 similar warnings suppressed)']);
    } finally {
      restore();
    }
  });

  it('builds no message for suppressed warnings (a flood of bad input costs no string formatting)', () => {
    let built = 0;
    const warnings = new RateLimitedWarnings(() => 0);
    for (let i = 0; i < 1000; i++) warnings.warn('k', () => `message ${++built}`);
    expect(built).toBe(1);
  });
});
