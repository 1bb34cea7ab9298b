/**
 * @jest-environment jsdom
 *
 * The SVG plot parses as XML and has both panels, labelled axes, one point per aligned pair and the fit line
 * in the direction of the slope. (The e2e test also renders a plot from real Prometheus data in Chromium.)
 */
import { correlateSeries } from '../../src/analysis/correlation';
import { renderCorrelationSvg } from '../../src/analysis/svg';
import { designedPair } from './synthetic';

describe('renderCorrelationSvg', () => {
  const pair = designedPair({ points: 200, lag: 2, r: -0.7, phi: 0.6, slopePerSecond: -0.04, seed: 5 });
  const T0 = 1_700_000_100;
  const technical = pair.latency.map((value, i) => ({ timestamp: T0 + i * 300, value }));
  // A gap in the business series, to check the time-series line breaks instead of bridging it.
  const business = pair.conversion.map((value, i) => ({
    timestamp: T0 + i * 300,
    value: i >= 50 && i < 60 ? NaN : value,
  }));
  const result = correlateSeries(technical, business, {
    step: 300,
    technical: { name: 'p99 latency <checkout & cart>', unit: 'ms', scale: 1000 },
    business: { name: 'conversion', unit: '%', scale: 100 },
  });
  const text = renderCorrelationSvg(result);
  const document = new DOMParser().parseFromString(text, 'image/svg+xml');

  it('is well-formed XML with an svg root', () => {
    expect(document.getElementsByTagName('parsererror')).toHaveLength(0);
    expect(document.documentElement.tagName).toBe('svg');
    expect(document.documentElement.getAttribute('xmlns')).toBe('http://www.w3.org/2000/svg');
  });

  it('has a time-series panel with both series on their own labelled axes', () => {
    const panel = document.getElementById('time-series-panel');
    expect(panel).not.toBeNull();
    const technicalPath = panel?.querySelector('path.technical-series')?.getAttribute('d') ?? '';
    const businessPath = panel?.querySelector('path.business-series')?.getAttribute('d') ?? '';
    expect(technicalPath.match(/[ML]/g)).toHaveLength(200);
    // 190 points, in two runs around the gap: two M commands.
    expect(businessPath.match(/M/g)).toHaveLength(2);
    expect(businessPath.match(/[ML]/g)).toHaveLength(190);
    const axisText = Array.from(panel?.querySelectorAll('.y-axis text') ?? []).map((t) => t.textContent);
    expect(axisText).toContain('p99 latency <checkout & cart> (ms)');
    expect(axisText).toContain('conversion (%)');
    expect(panel?.querySelectorAll('.x-axis text').length).toBeGreaterThan(3);
  });

  it('has a scatter panel with one point per aligned pair and the fit line going down for a negative slope', () => {
    const panel = document.getElementById('scatter-panel');
    expect(panel?.querySelectorAll('circle.point')).toHaveLength(result.n);
    const fit = document.getElementById('fit-line');
    expect(fit).not.toBeNull();
    // SVG y grows downwards: a negative slope ends lower on screen, i.e. at a larger y.
    expect(Number(fit?.getAttribute('y2'))).toBeGreaterThan(Number(fit?.getAttribute('y1')));
    expect(Number(fit?.getAttribute('x2'))).toBeGreaterThan(Number(fit?.getAttribute('x1')));
    const labels = Array.from(panel?.querySelectorAll('.axis text') ?? []).map((t) => t.textContent);
    expect(labels).toContain('p99 latency <checkout & cart> (ms)');
    expect(labels).toContain('conversion (%)');
    expect(panel?.querySelectorAll('.x-axis text').length).toBeGreaterThan(3);
    expect(panel?.querySelectorAll('.y-axis text').length).toBeGreaterThan(3);
  });
});
