/**
 * A standalone SVG picture of a correlation result: both series over time (two y-axes) and the scatter of the
 * aligned pairs with the least-squares line. No dependencies; the file opens in any browser.
 *
 * Owns: layout and drawing. Must not touch: statistics (it draws what the result says), the filesystem.
 */
import { formatNumber, niceNumber, type CorrelationResult } from './correlation';
import { formatDuration } from './duration';

const WIDTH = 1000;
const HEIGHT = 1040;
const TECHNICAL_COLOUR = '#1f6fb4';
const BUSINESS_COLOUR = '#c0392b';
const MARGIN_LEFT = 110;
const MARGIN_RIGHT = 110;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Greedy word wrap to `width` characters, at most `maxLines` lines (the last one truncated). */
function wrapWords(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  const kept = lines.slice(0, maxLines).map((line) => truncate(line, width));
  if (lines.length > maxLines)
    kept[maxLines - 1] = truncate(`${kept[maxLines - 1]} ${lines[maxLines]}`, width);
  return kept;
}

/** Evenly spaced "nice" tick values covering [min, max]. */
export function niceTicks(min: number, max: number, target = 6): number[] {
  if (!(max > min)) return [min];
  const step = niceNumber((max - min) / target);
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function paddedExtent(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return [0, 1];
  if (min === max) return [min - 1, max + 1];
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

const TIME_STEPS = [
  60,
  300,
  900,
  1800,
  3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  86400,
  2 * 86400,
  7 * 86400,
  14 * 86400,
  28 * 86400,
];

function timeTicks(from: number, to: number): { ticks: number[]; format: (t: number) => string } {
  const span = Math.max(1, to - from);
  const step = TIME_STEPS.find((s) => span / s <= 8) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  const format = (t: number) => {
    const iso = new Date(t * 1000).toISOString();
    if (step >= 86400) return iso.slice(5, 10);
    if (span > 86400) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
    return iso.slice(11, 16);
  };
  return { ticks, format };
}

function linePath(
  grid: Float64Array,
  scale: number,
  x: (index: number) => number,
  y: (value: number) => number,
): string {
  let path = '';
  let drawing = false;
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i];
    if (!Number.isFinite(v)) {
      drawing = false;
      continue;
    }
    path += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)},${y(v * scale).toFixed(1)}`;
    drawing = true;
  }
  return path;
}

function axisLabel(name: string, unit: string): string {
  return truncate(unit ? `${name} (${unit})` : name, 90);
}

/** Options of {@link renderCorrelationSvg}. */
export interface SvgOptions {
  /** Title line; default: the result's summary. */
  title?: string;
}

/** Render a result as a standalone SVG document (UTF-8 text). */
export function renderCorrelationSvg(result: CorrelationResult, options: SvgOptions = {}): string {
  const { aligned, technical, business } = result;
  const parts: string[] = [];
  const plotLeft = MARGIN_LEFT;
  const plotRight = WIDTH - MARGIN_RIGHT;
  const plotWidth = plotRight - plotLeft;
  const title = options.title ?? result.summary;

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  );
  // The title can be long (it names both expressions): wrap it on up to three lines.
  wrapWords(title, 115, 3).forEach((line, i) =>
    parts.push(
      `<text x="${WIDTH / 2}" y="${20 + i * 16}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(line)}</text>`,
    ),
  );

  // Panel 1: both series over time, each on its own y-axis (left: technical, right: business).
  {
    const top = 100;
    const bottom = 420;
    const gridTimes = (i: number) => aligned.gridStart + i * aligned.step;
    // Crop to the data: the queried window may extend before the first or after the last sample.
    const hasData = (i: number) =>
      Number.isFinite(aligned.technicalGrid[i]) || Number.isFinite(aligned.businessGrid[i]);
    let firstIndex = 0;
    while (firstIndex < aligned.gridPoints - 1 && !hasData(firstIndex)) firstIndex++;
    let lastIndex = Math.max(0, aligned.gridPoints - 1);
    while (lastIndex > firstIndex && !hasData(lastIndex)) lastIndex--;
    const first = gridTimes(firstIndex);
    const last = gridTimes(lastIndex);
    const x = (i: number) =>
      plotLeft + (last > first ? ((gridTimes(i) - first) / (last - first)) * plotWidth : plotWidth / 2);
    const xt = (t: number) =>
      plotLeft + (last > first ? ((t - first) / (last - first)) * plotWidth : plotWidth / 2);
    const [tMin, tMax] = paddedExtent(aligned.technicalGrid.map((v) => v * technical.scale));
    const [bMin, bMax] = paddedExtent(aligned.businessGrid.map((v) => v * business.scale));
    const yT = (v: number) => bottom - ((v - tMin) / (tMax - tMin)) * (bottom - top);
    const yB = (v: number) => bottom - ((v - bMin) / (bMax - bMin)) * (bottom - top);
    parts.push(`<g id="time-series-panel">`);
    parts.push(
      `<text x="${plotLeft}" y="${top - 12}" font-size="13" font-weight="bold">Both series over time (UTC), step ${escapeXml(formatDuration(result.step))}</text>`,
    );
    parts.push(
      `<rect class="frame" x="${plotLeft}" y="${top}" width="${plotWidth}" height="${bottom - top}" fill="none" stroke="#999"/>`,
    );
    const time = timeTicks(first, last);
    parts.push(`<g class="axis x-axis">`);
    for (const t of time.ticks) {
      parts.push(
        `<line x1="${xt(t).toFixed(1)}" y1="${top}" x2="${xt(t).toFixed(1)}" y2="${bottom + 5}" stroke="#e4e4e4"/>`,
      );
      parts.push(
        `<text x="${xt(t).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${escapeXml(time.format(t))}</text>`,
      );
    }
    parts.push(
      `<text x="${plotLeft + plotWidth / 2}" y="${bottom + 38}" text-anchor="middle">time (UTC)</text>`,
    );
    parts.push(`</g>`);
    parts.push(`<g class="axis y-axis technical-axis" fill="${TECHNICAL_COLOUR}">`);
    for (const v of niceTicks(tMin, tMax)) {
      parts.push(
        `<line x1="${plotLeft - 5}" y1="${yT(v).toFixed(1)}" x2="${plotLeft}" y2="${yT(v).toFixed(1)}" stroke="${TECHNICAL_COLOUR}"/>`,
      );
      parts.push(
        `<text x="${plotLeft - 8}" y="${(yT(v) + 4).toFixed(1)}" text-anchor="end">${formatNumber(v, 4)}</text>`,
      );
    }
    parts.push(
      `<text transform="translate(${plotLeft - 78},${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(truncate(axisLabel(technical.name, technical.unit), 45))}</text>`,
    );
    parts.push(`</g>`);
    parts.push(`<g class="axis y-axis business-axis" fill="${BUSINESS_COLOUR}">`);
    for (const v of niceTicks(bMin, bMax)) {
      parts.push(
        `<line x1="${plotRight}" y1="${yB(v).toFixed(1)}" x2="${plotRight + 5}" y2="${yB(v).toFixed(1)}" stroke="${BUSINESS_COLOUR}"/>`,
      );
      parts.push(`<text x="${plotRight + 8}" y="${(yB(v) + 4).toFixed(1)}">${formatNumber(v, 4)}</text>`);
    }
    parts.push(
      `<text transform="translate(${plotRight + 85},${(top + bottom) / 2}) rotate(90)" text-anchor="middle">${escapeXml(truncate(axisLabel(business.name, business.unit), 45))}</text>`,
    );
    parts.push(`</g>`);
    parts.push(
      `<path class="series technical-series" d="${linePath(aligned.technicalGrid, technical.scale, x, yT)}" fill="none" stroke="${TECHNICAL_COLOUR}" stroke-width="1.2"/>`,
    );
    parts.push(
      `<path class="series business-series" d="${linePath(aligned.businessGrid, business.scale, x, yB)}" fill="none" stroke="${BUSINESS_COLOUR}" stroke-width="1.2" stroke-opacity="0.85"/>`,
    );
    parts.push(
      `<g class="legend"><rect x="${plotLeft + 4}" y="${top + 3}" width="${Math.min(plotWidth - 8, 14 + 7 * Math.max(technical.name.length, business.name.length, 10) + 90)}" height="34" fill="#ffffff" fill-opacity="0.85"/>` +
        `<rect x="${plotLeft + 10}" y="${top + 8}" width="12" height="3" fill="${TECHNICAL_COLOUR}"/>` +
        `<text x="${plotLeft + 28}" y="${top + 14}">${escapeXml(truncate(technical.name, 60))} (left axis)</text>` +
        `<rect x="${plotLeft + 10}" y="${top + 24}" width="12" height="3" fill="${BUSINESS_COLOUR}"/>` +
        `<text x="${plotLeft + 28}" y="${top + 30}">${escapeXml(truncate(business.name, 60))} (right axis)</text></g>`,
    );
    parts.push(`</g>`);
  }

  // Panel 2: scatter of the aligned pairs (lag 0) with the least-squares line.
  {
    const top = 520;
    const bottom = 920;
    const xs = result.aligned.technical.map((v) => v * technical.scale);
    const ys = result.aligned.business.map((v) => v * business.scale);
    const [xMin, xMax] = paddedExtent(xs);
    const [yMin, yMax] = paddedExtent(ys);
    const px = (v: number) => plotLeft + ((v - xMin) / (xMax - xMin)) * plotWidth;
    const py = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);
    parts.push(`<g id="scatter-panel">`);
    parts.push(
      `<text x="${plotLeft}" y="${top - 28}" font-size="13" font-weight="bold">Aligned pairs at lag 0 (n = ${result.n}), ` +
        `least-squares line, r = ${formatNumber(result.pearson.r, 2)}${result.lag && result.lag.steps !== 0 ? `; strongest at lag ${result.lag.steps > 0 ? '+' : ''}${result.lag.steps} (r = ${formatNumber(result.lag.r, 2)})` : ''}</text>`,
    );
    parts.push(
      `<defs><clipPath id="scatter-clip"><rect x="${plotLeft}" y="${top}" width="${plotWidth}" height="${bottom - top}"/></clipPath></defs>`,
    );
    parts.push(
      `<rect class="frame" x="${plotLeft}" y="${top}" width="${plotWidth}" height="${bottom - top}" fill="none" stroke="#999"/>`,
    );
    parts.push(`<g class="axis x-axis">`);
    for (const v of niceTicks(xMin, xMax)) {
      parts.push(
        `<line x1="${px(v).toFixed(1)}" y1="${top}" x2="${px(v).toFixed(1)}" y2="${bottom + 5}" stroke="#e4e4e4"/>`,
      );
      parts.push(
        `<text x="${px(v).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${formatNumber(v, 4)}</text>`,
      );
    }
    parts.push(
      `<text x="${plotLeft + plotWidth / 2}" y="${bottom + 40}" text-anchor="middle" fill="${TECHNICAL_COLOUR}">${escapeXml(axisLabel(technical.name, technical.unit))}</text>`,
    );
    parts.push(`</g>`);
    parts.push(`<g class="axis y-axis">`);
    for (const v of niceTicks(yMin, yMax)) {
      parts.push(
        `<line x1="${plotLeft - 5}" y1="${py(v).toFixed(1)}" x2="${plotRight}" y2="${py(v).toFixed(1)}" stroke="#e4e4e4"/>`,
      );
      parts.push(
        `<text x="${plotLeft - 8}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${formatNumber(v, 4)}</text>`,
      );
    }
    parts.push(
      `<text transform="translate(${plotLeft - 78},${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="${BUSINESS_COLOUR}">${escapeXml(truncate(axisLabel(business.name, business.unit), 55))}</text>`,
    );
    parts.push(`</g>`);
    parts.push(`<g class="points" fill="#555" fill-opacity="0.45">`);
    for (let i = 0; i < xs.length; i++) {
      parts.push(`<circle class="point" cx="${px(xs[i]).toFixed(1)}" cy="${py(ys[i]).toFixed(1)}" r="2.2"/>`);
    }
    parts.push(`</g>`);
    const fitY = (xDisplay: number) =>
      (result.fit.intercept + result.fit.slope * (xDisplay / technical.scale)) * business.scale;
    parts.push(
      `<line id="fit-line" clip-path="url(#scatter-clip)" x1="${px(xMin).toFixed(1)}" y1="${py(fitY(xMin)).toFixed(1)}" ` +
        `x2="${px(xMax).toFixed(1)}" y2="${py(fitY(xMax)).toFixed(1)}" stroke="#111" stroke-width="2"/>`,
    );
    parts.push(
      `<text x="${plotLeft}" y="${top - 10}" class="slope-sentence">${escapeXml(truncate(result.slopeSentence, 125))}</text>`,
    );
    parts.push(`</g>`);
  }
  // The effect size in business units (or why it is not stated), under the scatter's axis label.
  wrapWords(`Effect size: ${result.effect.sentence}`, 130, 2).forEach((line, i) =>
    parts.push(
      `<text x="${WIDTH / 2}" y="${HEIGHT - 55 + i * 15}" text-anchor="middle" class="effect-sentence"${result.effect.stated ? ' font-weight="bold"' : ' fill="#a33"'}>${escapeXml(line)}</text>`,
    ),
  );
  parts.push(
    `<text x="${WIDTH / 2}" y="${HEIGHT - 15}" text-anchor="middle" fill="#666">Correlation, not causation: a shared cause can move both series.</text>`,
  );
  parts.push(`</svg>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${parts.join('\n')}\n`;
}
