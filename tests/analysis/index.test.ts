/**
 * The correlation toolkit is its own entry point, `otel-business-metrics/analysis` (src/analysis/index.ts): the
 * root entry exports none of it, the analysis entry exports exactly the documented names, and `naivePearson`
 * (the seed's formula, kept for the tests that show where it fails) is exported from no entry point. Each export is
 * the very object of the module that defines it, so the entry point adds no wrapper and no second definition.
 */
import * as root from '../../src/index';
import * as analysis from '../../src/analysis';
import * as statistics from '../../src/analysis/statistics';
import * as express from '../../src/integrations/express';
import * as browser from '../../src/browser';
import * as react from '../../src/react';
import * as errors from '../../src/analysis/errors';
import * as correlation from '../../src/analysis/correlation';
import * as service from '../../src/analysis/service';
import * as svg from '../../src/analysis/svg';
import { exportOrigins } from '../support/entry-points';

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

  it('re-exports each name from the module that defines it, the very same object', () => {
    expect(exportOrigins(analysis, { errors, statistics, correlation, service, svg })).toEqual({
      CorrelationError: 'errors',
      MIN_EFFECT_EFFECTIVE_N: 'correlation',
      MetricCorrelationService: 'service',
      analyzeCorrelation: 'service',
      correlateSeries: 'correlation',
      correlationResultToJson: 'correlation',
      crossCorrelation: 'statistics',
      effectiveSampleSize: 'statistics',
      fisherInference: 'statistics',
      formatCorrelationReport: 'correlation as formatReport',
      isCorrelationError: 'errors',
      lag1Autocorrelation: 'statistics',
      linearFit: 'statistics',
      pearson: 'statistics',
      renderCorrelationSvg: 'svg',
      slopeInference: 'statistics',
      spearman: 'statistics',
      studentT975: 'statistics',
    });
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
