/**
 * src/analysis/duration.ts directly: Prometheus durations and plain seconds, times as Date, epoch milliseconds,
 * unix-seconds strings and ISO 8601, the query window snapped to the step grid (start up, end down), refused
 * before any query when empty or above Prometheus's 11,000 points, and durations formatted back compactly.
 */
import {
  formatDuration,
  parseDuration,
  parseTime,
  PROMETHEUS_MAX_POINTS_PER_SERIES,
  resolveQueryWindow,
} from '../../src/analysis/duration';
import { CorrelationError } from '../../src/analysis/errors';

/** The error's code and message, or 'no error'. */
function refusal(run: () => unknown): { code: string; message: string } | 'no error' {
  try {
    run();
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(CorrelationError);
    return { code: (error as CorrelationError).code, message: (error as Error).message };
  }
}

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['7d', 604800],
    ['2w', 1209600],
    ['1y', 31536000],
    ['250ms', 0.25],
    ['1m500ms', 60.5],
    ['300', 300],
    ['0.5', 0.5],
    [' 5m ', 300],
  ])('%j is %d s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '5 m', '-5m', '1.5h', 'm', '5x', '0', '0s'])(
    'refuses %j, naming what was expected',
    (text) => {
      const result = refusal(() => parseDuration(text, 'step'));
      expect(result).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((result as { message: string }).message).toMatch(/^Invalid step /);
    },
  );
});

describe('parseTime', () => {
  it('reads a Date, epoch milliseconds, unix seconds as text and ISO 8601, in seconds', () => {
    const seconds = Date.UTC(2026, 10, 20) / 1000;
    expect(parseTime(new Date(seconds * 1000))).toBe(seconds);
    expect(parseTime(seconds * 1000)).toBe(seconds);
    expect(parseTime(String(seconds))).toBe(seconds);
    expect(parseTime('2026-11-20T00:00:00Z')).toBe(seconds);
    expect(parseTime('2026-11-20T01:00:00+01:00')).toBe(seconds);
  });

  it('refuses what is no time', () => {
    expect(refusal(() => parseTime('yesterday', 'start'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^Invalid start "yesterday"/),
    });
    expect(refusal(() => parseTime(Number.NaN))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('resolveQueryWindow', () => {
  const now = () => Date.UTC(2026, 10, 20, 12, 7, 30);

  it('ends at now and starts a range before it, both snapped to the step grid (start up, end down)', () => {
    const end = Date.UTC(2026, 10, 20, 12, 5) / 1000;
    expect(resolveQueryWindow({ range: '1h', step: '5m', now })).toEqual({
      start: Date.UTC(2026, 10, 20, 11, 10) / 1000,
      end,
      step: 300,
      points: 12,
    });
  });

  it('takes an explicit start and end over the range, and a step in seconds', () => {
    const window = resolveQueryWindow({
      range: '7d',
      start: '2026-11-20T00:00:10Z',
      end: '2026-11-20T00:10:00Z',
      step: 60,
      now,
    });
    expect(window).toEqual({
      start: Date.UTC(2026, 10, 20, 0, 1) / 1000,
      end: Date.UTC(2026, 10, 20, 0, 10) / 1000,
      step: 60,
      points: 10,
    });
  });

  it('refuses an empty window, a missing range and start, and a bad step', () => {
    expect(refusal(() => resolveQueryWindow({ range: '2m', step: '5m', now }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^The time window is empty: .* \(after snapping to the 5m step\)$/),
    });
    expect(refusal(() => resolveQueryWindow({ step: '5m', now }))).toMatchObject({
      message: 'Give either a range (e.g. 7d) or a start time',
    });
    expect(refusal(() => resolveQueryWindow({ range: '1h', step: 0, now }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it(`refuses more than ${PROMETHEUS_MAX_POINTS_PER_SERIES} points per series, saying which step would do`, () => {
    expect(resolveQueryWindow({ range: '10999m', step: '1m', now }).points).toBeLessThanOrEqual(
      PROMETHEUS_MAX_POINTS_PER_SERIES,
    );
    expect(refusal(() => resolveQueryWindow({ range: '30d', step: '1m', now }))).toEqual({
      code: 'TOO_MANY_POINTS',
      message:
        'A 30d range at a 1m step is 43201 points per series; Prometheus refuses range queries above 11000 ' +
        'points. Use a step of at least 3m56s or a shorter range.',
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.25, '250ms'],
    [30, '30s'],
    [300, '5m'],
    [5400, '1h30m'],
    [93784.5, '1d2h3m4.5s'],
    [-90, '-1m30s'],
  ])('%d s is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
