/**
 * Alignment of two sampled series on a common step grid (inner join on timestamps).
 *
 * Owns: deciding which pairs enter the statistics and accounting for every sample that does not.
 * Must not touch: the network, the statistics themselves.
 */
import { CorrelationError } from './errors';

/** One sample: time in seconds since the epoch (as Prometheus returns it) and a value. */
export interface Sample {
  readonly timestamp: number;
  readonly value: number;
}

/** What happened to the samples of one series during alignment. */
export interface SeriesAccounting {
  /** Samples received. */
  readonly received: number;
  /** Samples dropped for being NaN, +Inf or -Inf (Prometheus returns these for e.g. 0/0 ratios). */
  readonly nonFinite: number;
  /** Samples whose timestamp is not on the step grid. */
  readonly offGrid: number;
  /** Finite on-grid samples without a partner at the same timestamp in the other series. */
  readonly unmatched: number;
}

/** Two series on one grid; pairs are the grid points where both have a finite value. */
export interface AlignedSeries {
  readonly step: number;
  /** First grid timestamp (seconds). */
  readonly gridStart: number;
  /** Number of grid points from the first to the last sample of either series. */
  readonly gridPoints: number;
  /** Grid values of the technical series; NaN where missing. Index i is at gridStart + i·step. */
  readonly technicalGrid: Float64Array;
  /** Grid values of the business series; NaN where missing. */
  readonly businessGrid: Float64Array;
  /** Timestamps (seconds) of the aligned pairs, ascending. */
  readonly timestamps: number[];
  readonly technical: number[];
  readonly business: number[];
  readonly accounting: { readonly technical: SeriesAccounting; readonly business: SeriesAccounting };
}

// Timestamps from JSON can carry float noise (1700000000.3 etc.); grid membership is judged to 1 ms.
const TOLERANCE_SECONDS = 0.001;

/**
 * Inner-join two series on a step grid anchored at `gridStart` (default: the earliest finite sample).
 * Samples with non-finite values are ignored; timestamps are matched exactly on the grid, never interpolated,
 * because interpolating a gap would invent data the statistics then count as evidence.
 */
export function alignOnGrid(
  technical: readonly Sample[],
  business: readonly Sample[],
  step: number,
  gridStart?: number,
): AlignedSeries {
  if (!(step > 0) || !Number.isFinite(step)) {
    throw new CorrelationError('INVALID_ARGUMENT', `The alignment step must be > 0, got ${step}`);
  }
  const finite = (samples: readonly Sample[]) =>
    samples.filter((s) => Number.isFinite(s.value) && Number.isFinite(s.timestamp));
  const technicalFinite = finite(technical);
  const businessFinite = finite(business);
  let start = gridStart;
  let last = -Infinity;
  for (const sample of [...technicalFinite, ...businessFinite]) {
    if (start === undefined || (gridStart === undefined && sample.timestamp < start))
      start = sample.timestamp;
    if (sample.timestamp > last) last = sample.timestamp;
  }
  if (start === undefined || last === -Infinity) start = last = 0;
  const gridPoints = last >= start ? Math.round((last - start) / step) + 1 : 0;

  const place = (samples: readonly Sample[]) => {
    const grid = new Float64Array(gridPoints).fill(NaN);
    let offGrid = 0;
    for (const sample of samples) {
      const position = (sample.timestamp - (start as number)) / step;
      const index = Math.round(position);
      if (index < 0 || index >= gridPoints || Math.abs(position - index) * step > TOLERANCE_SECONDS) {
        offGrid++;
        continue;
      }
      grid[index] = sample.value; // a duplicate timestamp keeps the later sample, as Prometheus would
    }
    return { grid, offGrid };
  };
  const t = place(technicalFinite);
  const b = place(businessFinite);
  const timestamps: number[] = [];
  const technicalValues: number[] = [];
  const businessValues: number[] = [];
  let technicalOnGrid = 0;
  let businessOnGrid = 0;
  for (let i = 0; i < gridPoints; i++) {
    const hasT = !Number.isNaN(t.grid[i]);
    const hasB = !Number.isNaN(b.grid[i]);
    if (hasT) technicalOnGrid++;
    if (hasB) businessOnGrid++;
    if (hasT && hasB) {
      timestamps.push(start + i * step);
      technicalValues.push(t.grid[i]);
      businessValues.push(b.grid[i]);
    }
  }
  const n = timestamps.length;
  return {
    step,
    gridStart: start,
    gridPoints,
    technicalGrid: t.grid,
    businessGrid: b.grid,
    timestamps,
    technical: technicalValues,
    business: businessValues,
    accounting: {
      technical: {
        received: technical.length,
        nonFinite: technical.length - technicalFinite.length,
        offGrid: t.offGrid,
        unmatched: technicalOnGrid - n,
      },
      business: {
        received: business.length,
        nonFinite: business.length - businessFinite.length,
        offGrid: b.offGrid,
        unmatched: businessOnGrid - n,
      },
    },
  };
}
