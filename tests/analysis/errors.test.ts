/**
 * src/analysis/errors.ts: the one error type of the correlation analysis. A CorrelationError is a real Error with
 * its name, stable code, message and cause; isCorrelationError recognises only instances (not look-alikes) and
 * filters by code; and the codes are exactly the ones docs/correlation.md's "Errors" table documents, so a caller
 * branching on a code finds every one written down.
 */
import { CorrelationError, isCorrelationError, type CorrelationErrorCode } from '../../src/analysis/errors';
import { readDoc } from '../docs/docs-files';

/** Every code, once: the compiler refuses this object when a code is added to or removed from the type. */
const CODES: Record<CorrelationErrorCode, true> = {
  INVALID_ARGUMENT: true,
  TOO_MANY_POINTS: true,
  PROMETHEUS_UNREACHABLE: true,
  PROMETHEUS_TIMEOUT: true,
  PROMETHEUS_HTTP_ERROR: true,
  PROMETHEUS_QUERY_ERROR: true,
  PROMETHEUS_BAD_RESPONSE: true,
  MULTIPLE_SERIES: true,
  NO_DATA: true,
  TOO_FEW_POINTS: true,
  CONSTANT_SERIES: true,
};

describe('CorrelationError', () => {
  it('is an Error named CorrelationError with its code, message and cause', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:9');
    const error = new CorrelationError('PROMETHEUS_UNREACHABLE', 'Cannot reach Prometheus', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(CorrelationError);
    expect(error.name).toBe('CorrelationError');
    expect(error.code).toBe('PROMETHEUS_UNREACHABLE');
    expect(error.message).toBe('Cannot reach Prometheus');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('CorrelationError: Cannot reach Prometheus');
    expect(error.stack).toMatch(/^CorrelationError: Cannot reach Prometheus\n/);
    expect(new CorrelationError('NO_DATA', 'empty').cause).toBeUndefined();
  });

  it('isCorrelationError recognises instances, of any code or of the one asked for', () => {
    for (const code of Object.keys(CODES) as CorrelationErrorCode[]) {
      const error = new CorrelationError(code, code);
      expect(isCorrelationError(error)).toBe(true);
      expect(isCorrelationError(error, code)).toBe(true);
      const other = code === 'NO_DATA' ? 'CONSTANT_SERIES' : 'NO_DATA';
      expect(isCorrelationError(error, other)).toBe(false);
    }
  });

  it('isCorrelationError refuses other errors, look-alikes and non-errors', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'CorrelationError', code: 'NO_DATA' });
    for (const value of [
      lookAlike,
      { name: 'CorrelationError', code: 'NO_DATA', message: 'x' },
      new TypeError('NO_DATA'),
      'NO_DATA',
      null,
      undefined,
    ]) {
      expect(isCorrelationError(value)).toBe(false);
      expect(isCorrelationError(value, 'NO_DATA')).toBe(false);
    }
  });

  it('has exactly the codes docs/correlation.md documents', () => {
    const doc = readDoc('docs/correlation.md');
    const section = doc.slice(doc.indexOf('## Errors'), doc.indexOf('\n## ', doc.indexOf('## Errors') + 1));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual(Object.keys(CODES).sort());
  });
});
