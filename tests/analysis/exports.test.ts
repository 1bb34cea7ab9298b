/**
 * The analysis API can be re-exported from the package root without name collisions, and exposes what the
 * README documents.
 */
import * as root from '../../src/index';
import * as analysis from '../../src/analysis';
import * as combined from './combined-exports';

describe('analysis exports', () => {
  it('share no runtime name with a different value in the package root', () => {
    const rootExports = root as Record<string, unknown>;
    const clashes = Object.keys(analysis).filter(
      (name) => name in rootExports && rootExports[name] !== (analysis as Record<string, unknown>)[name],
    );
    expect(clashes).toEqual([]);
  });

  it('expose the documented names through the combined root', () => {
    for (const name of [
      'MetricCorrelationService',
      'analyzeCorrelation',
      'correlateSeries',
      'CorrelationError',
      'pearson',
      'spearman',
      'fisherInference',
      'crossCorrelation',
      'renderCorrelationSvg',
      'formatCorrelationReport',
      'correlationResultToJson',
    ]) {
      expect(typeof (combined as Record<string, unknown>)[name]).toBe('function');
    }
  });
});
