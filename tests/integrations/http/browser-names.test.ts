/**
 * src/integrations/http/browser-names.ts directly: with an allow-list only its names are kept (others are
 * `other`); without one the first `max` distinct names are kept for the router's life, repeats of them stay, and
 * later ones are `other` with one warning naming the option to configure.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { BrowserNames, DEFAULT_MAX_BROWSER_NAMES } from '../../../src/integrations/http/browser-names';

const warnings: string[] = [];
beforeAll(() =>
  diag.setLogger(
    {
      error: () => undefined,
      warn: (message: string) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  ),
);
afterAll(() => diag.disable());
beforeEach(() => (warnings.length = 0));

it('keeps only the allow-listed names when there is an allow-list, whatever max says', () => {
  const names = new BrowserNames('features', ['search', 'export'], 1);
  expect(['search', 'export', 'wishlist', 'search'].map((n) => names.admit(n))).toEqual([
    'search',
    'export',
    'other',
    'search',
  ]);
  expect(warnings).toEqual([]);
});

it('keeps the first max distinct names, then records other with one warning naming the option', () => {
  const names = new BrowserNames('milestones', undefined, 2);
  expect(['a', 'b', 'a', 'c', 'd', 'b'].map((n) => names.admit(n))).toEqual([
    'a',
    'b',
    'a',
    'other',
    'other',
    'b',
  ]);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    /more than 2 distinct milestones \(maxBrowserNames\).*Configure the milestones allow-list/,
  );
});

it('defaults to 20 names', () => {
  expect(DEFAULT_MAX_BROWSER_NAMES).toBe(20);
  const names = new BrowserNames('features', undefined, DEFAULT_MAX_BROWSER_NAMES);
  const admitted = Array.from({ length: 25 }, (_, i) => names.admit(`f${i}`));
  expect(admitted.filter((n) => n !== 'other')).toHaveLength(20);
  expect(admitted.slice(20)).toEqual(Array(5).fill('other'));
});
