/**
 * Days of realistic history built from the package's own exposition, for `promtool tsdb create-blocks-from
 * openmetrics`: a real scrape of one workload tick gives every series (names, labels, per-tick increments);
 * the history repeats those exact series at many timestamps with counters growing by the per-tick increments
 * times a schedule (traffic, conversion, revenue and new-user factors over time). Gauges keep their scraped value.
 */

/** One series of a scrape: its text (`name{labels}`), family type and scraped value. */
export interface ScrapedSeries {
  readonly name: string;
  readonly series: string;
  readonly labels: Record<string, string>;
  readonly type: 'counter' | 'histogram' | 'gauge' | 'unknown';
  readonly value: number;
}

/** Parse Prometheus text exposition (as the package serves it) into its series. */
export function parseExposition(text: string): ScrapedSeries[] {
  const types = new Map<string, ScrapedSeries['type']>();
  const result: ScrapedSeries[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1], type[2] as ScrapedSeries['type']);
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const [, name, labelText = '', value] = match;
    const labels: Record<string, string> = {};
    for (const label of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[label[1]] = label[2];
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    result.push({
      name,
      series: `${name}${labelText}`,
      labels,
      type: types.get(family) ?? 'unknown',
      value: Number(value),
    });
  }
  return result;
}

/** How much of a tick's increments a series gets at time t (epoch seconds). 0 stops a counter, 1 is normal. */
export type Schedule = (series: ScrapedSeries, t: number) => number;

/**
 * Timestamps from `start` to `end` (epoch seconds): `coarseStep` apart until `fineFrom`, then `fineStep` apart.
 * Fine resolution where short windows (`[5m]`) are queried, coarse where only `[1h]`..`[7d]` windows reach.
 */
export function timeGrid(
  start: number,
  end: number,
  fineFrom: number,
  coarseStep: number,
  fineStep: number,
): number[] {
  const times: number[] = [];
  for (let t = start; t < fineFrom; t += coarseStep) times.push(t);
  for (let t = fineFrom; t <= end; t += fineStep) times.push(t);
  return times;
}

/**
 * OpenMetrics text with every scraped series at every timestamp. A cumulative series grows, between two
 * timestamps, by its scraped per-tick value times `ticksPerSecond` times the elapsed seconds times the schedule.
 */
export function historyOpenMetrics(
  scrape: readonly ScrapedSeries[],
  times: readonly number[],
  ticksPerSecond: number,
  schedule: Schedule,
): string {
  const lines: string[] = [];
  for (const series of scrape) {
    const cumulative = series.type === 'counter' || series.type === 'histogram';
    let value = 0;
    let previous = times[0];
    for (const t of times) {
      if (cumulative) value += series.value * ticksPerSecond * (t - previous) * schedule(series, t);
      previous = t;
      // Rounded so the text stays short; counters of whole events stay whole at these rates.
      const sample = cumulative ? Math.round(value * 1e6) / 1e6 : series.value;
      lines.push(`${series.series} ${sample} ${t}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}
