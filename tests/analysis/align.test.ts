/**
 * src/analysis/align.ts directly: two series inner-joined on a step grid, never interpolated; non-finite values,
 * off-grid timestamps (beyond 1 ms of float noise) and samples without a partner are left out and accounted for,
 * every received sample in exactly one place; a duplicate timestamp keeps the later sample; a bad step is refused.
 */
import { alignOnGrid, type Sample } from '../../src/analysis/align';
import { CorrelationError } from '../../src/analysis/errors';

const at = (timestamp: number, value: number): Sample => ({ timestamp, value });

it('pairs the grid points where both series have a finite value, in time order', () => {
  const technical = [at(100, 1), at(160, 2), at(220, 3), at(280, 4)];
  const business = [at(160, 20), at(280, 40), at(220, 30), at(340, 50)];
  const aligned = alignOnGrid(technical, business, 60);
  expect(aligned).toMatchObject({ step: 60, gridStart: 100, gridPoints: 5 });
  expect(aligned.timestamps).toEqual([160, 220, 280]);
  expect(aligned.technical).toEqual([2, 3, 4]);
  expect(aligned.business).toEqual([20, 30, 40]);
  expect([...aligned.technicalGrid]).toEqual([1, 2, 3, 4, NaN]);
  expect([...aligned.businessGrid]).toEqual([NaN, 20, 30, 40, 50]);
  expect(aligned.accounting).toEqual({
    technical: { received: 4, nonFinite: 0, offGrid: 0, unmatched: 1 },
    business: { received: 4, nonFinite: 0, offGrid: 0, unmatched: 1 },
  });
});

it('leaves out and counts non-finite values and off-grid timestamps, tolerating 1 ms of float noise', () => {
  const technical = [
    at(0, 1),
    at(60.0004, 2),
    at(120, Number.NaN),
    at(150, 9),
    at(180, Infinity),
    at(240, 5),
  ];
  const business = [at(0, 10), at(60, 20), at(120, 30), at(180, 40), at(240, -Infinity), at(240.5, 50)];
  const aligned = alignOnGrid(technical, business, 60);
  expect(aligned.timestamps).toEqual([0, 60]);
  expect(aligned.accounting.technical).toEqual({ received: 6, nonFinite: 2, offGrid: 1, unmatched: 1 });
  expect(aligned.accounting.business).toEqual({ received: 6, nonFinite: 1, offGrid: 1, unmatched: 2 });
  // Every sample is somewhere: paired, non-finite, off-grid or unmatched.
  for (const side of ['technical', 'business'] as const) {
    const a = aligned.accounting[side];
    expect(aligned.timestamps.length + a.nonFinite + a.offGrid + a.unmatched).toBe(a.received);
  }
});

it('anchors the grid where told, keeps the later of two samples at one timestamp, and never interpolates', () => {
  const aligned = alignOnGrid([at(30, 1), at(90, 2), at(90, 3)], [at(30, 5), at(60, 6), at(90, 7)], 60, 30);
  expect(aligned.gridStart).toBe(30);
  expect(aligned.timestamps).toEqual([30, 90]);
  expect(aligned.technical).toEqual([1, 3]);
  // 60 is off this grid (30, 90, ...): not paired with an interpolated technical value.
  expect(aligned.accounting.business.offGrid).toBe(1);
});

it('gives an empty alignment for empty series, and refuses a step that is not a positive number', () => {
  expect(alignOnGrid([], [], 60)).toMatchObject({ timestamps: [], technical: [], business: [] });
  for (const step of [0, -60, Number.NaN, Infinity]) {
    expect(() => alignOnGrid([at(0, 1)], [at(0, 1)], step)).toThrow(CorrelationError);
    expect(() => alignOnGrid([at(0, 1)], [at(0, 1)], step)).toThrow(/The alignment step must be > 0/);
  }
});
