/**
 * The correlation toolkit is its own entry point, `otel-business-metrics/analysis` (src/analysis/index.ts): the
 * root entry exports none of it, the analysis entry exports exactly the documented names, and `naivePearson`
 * (the seed's formula, kept for the tests that show where it fails) is exported from no entry point.
 */
import * as root from '../../src/index';
import * as analysis from '../../src/analysis';
import * as statistics from '../../src/analysis/statistics';
import * as express from '../../src/integrations/express';
import * as browser from '../../src/browser';
import * as react from '../../src/react';

/** The runtime exports of the analysis entry, as docs/correlation.md lists them. */
const DOCUMENTED = [
  'CorrelationError',
  'MetricCorrelationService',
  'analyzeCorrelation',
  'correlateSeries',
  'correlationResultToJson',
  'crossCorrelation',
  'effectiveSampleSize',
  'fisherInference',
  'formatCorrelationReport',
  'isCorrelationError',
  'lag1Autocorrelation',
  'linearFit',
  'MIN_EFFECT_EFFECTIVE_N',
  'pearson',
  'renderCorrelationSvg',
  'slopeInference',
  'spearman',
  'studentT975',
];

describe('analysis entry point', () => {
  it('exports exactly the documented runtime names', () => {
    expect(Object.keys(analysis).sort()).toEqual([...DOCUMENTED].sort());
  });

  it('is not re-exported from the root entry', () => {
    const rootExports = root as Record<string, unknown>;
    const inRoot = Object.entries(analysis)
      .filter(([name, value]) => rootExports[name] === value)
      .map(([name]) => name);
    expect(inRoot).toEqual([]);
    expect(Object.values(rootExports)).not.toContain(analysis.pearson);
  });

  it('exports naivePearson from no entry point (only from the internal module the tests use)', () => {
    expect(typeof statistics.naivePearson).toBe('function');
    for (const entry of [root, analysis, express, browser, react] as Array<Record<string, unknown>>) {
      expect(Object.keys(entry)).not.toContain('naivePearson');
      expect(Object.values(entry)).not.toContain(statistics.naivePearson);
    }
  });
});
