/**
 * The SVG plot as Chromium renders it: every label stays inside the picture (long PromQL expressions are
 * truncated or wrapped, not cut off at the edge), the two panels do not overlap, and the points and fit line
 * are drawn inside the scatter panel.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { requireBinary } from '../support/binaries';
import { correlateSeries } from '../../src/analysis/correlation';
import { renderCorrelationSvg } from '../../src/analysis/svg';
import { CONVERSION_QUERY, P99_LATENCY_QUERY } from './history';
import { designedPair } from './synthetic';

const chromiumPath = requireBinary('chromium', 'apt-get install chromium');
const describeWithChromium = chromiumPath ? describe : describe.skip;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

describeWithChromium('SVG plot rendered in Chromium', () => {
  let browser: Browser;
  let workDir: string;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    workDir = mkdtempSync(join(tmpdir(), 'obm-svg-'));
  });

  afterAll(async () => {
    await browser?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps every label inside the picture with the raw PromQL expressions as names', async () => {
    const pair = designedPair();
    const T0 = 1_700_000_100;
    const result = correlateSeries(
      pair.latency.map((value, i) => ({ timestamp: T0 + i * 300, value })),
      pair.conversion.map((value, i) => ({ timestamp: T0 + i * 300, value })),
      { step: 300, technical: { name: P99_LATENCY_QUERY }, business: { name: CONVERSION_QUERY } },
    );
    const file = join(workDir, 'plot.svg');
    writeFileSync(file, renderCorrelationSvg(result));
    const page = await browser.newPage({ viewport: { width: 1000, height: 1000 } });
    await page.goto(`file://${file}`);
    const layout = await page.evaluate(() => {
      const box = (element: Element) => {
        const r = element.getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      };
      const svg = document.documentElement;
      const panel = (id: string) => box(document.getElementById(id)?.querySelector('rect.frame') as Element);
      return {
        picture: box(svg),
        texts: Array.from(document.querySelectorAll('text')).map((t) => ({
          text: t.textContent ?? '',
          ...box(t),
        })),
        timePanel: panel('time-series-panel'),
        scatterPanel: panel('scatter-panel'),
        points: Array.from(document.querySelectorAll('circle.point')).map(box),
        fitLine: box(document.getElementById('fit-line') as Element),
        effect: Array.from(document.querySelectorAll('text.effect-sentence')).map((t) => ({
          text: t.textContent ?? '',
          ...box(t),
        })),
        technicalLineLength: (
          document.querySelector('path.technical-series') as SVGPathElement
        ).getTotalLength(),
      };
    });
    await page.close();
    const inside = (inner: Box, outer: Box, slack = 0.5) =>
      inner.left >= outer.left - slack &&
      inner.right <= outer.right + slack &&
      inner.top >= outer.top - slack &&
      inner.bottom <= outer.bottom + slack;
    const outside = layout.texts.filter((t) => !inside(t, layout.picture)).map((t) => t.text);
    expect(outside).toEqual([]);
    expect(layout.timePanel.bottom).toBeLessThan(layout.scatterPanel.top);
    expect(layout.points).toHaveLength(result.n);
    expect(layout.points.every((p) => inside(p, layout.scatterPanel, 3))).toBe(true);
    expect(inside(layout.fitLine, layout.scatterPanel, 1)).toBe(true);
    expect(layout.fitLine.right - layout.fitLine.left).toBeGreaterThan(
      0.9 * (layout.scatterPanel.right - layout.scatterPanel.left),
    );
    expect(layout.technicalLineLength).toBeGreaterThan(1000);
    // The effect size sits under the scatter, clear of every other label.
    expect(layout.effect[0]?.text).toMatch(/^Effect size: /);
    const overlaps = (a: Box, b: Box) =>
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const effectTexts = new Set(layout.effect.map((line) => line.text));
    for (const line of layout.effect) {
      expect(line.top).toBeGreaterThan(layout.scatterPanel.bottom);
      const others = layout.texts
        .filter((t) => !effectTexts.has(t.text) && overlaps(t, line))
        .map((t) => t.text);
      expect(others).toEqual([]);
    }
    // The full expressions are kept in the title element for tooltips and accessibility.
    expect(renderCorrelationSvg(result)).toContain(
      `<title>${result.summary.replace(/&/g, '&#38;').replace(/</g, '&#60;').replace(/>/g, '&#62;').replace(/"/g, '&#34;')}</title>`,
    );
  });
});
