/**
 * Days of realistic history built from the package's own exposition, for `promtool tsdb create-blocks-from
 * openmetrics`: a real scrape of one workload tick gives every series (names, labels, per-tick increments);
 * the history repeats those exact series at many timestamps with counters growing by the per-tick increments
 * times a schedule (traffic, conversion, revenue and new-user factors over time). Gauges are their scraped value
 * times the schedule (1 keeps it).
 */
import { initBusinessMetrics } from '../../src';
import { parseExposition } from '../support/exposition';
import { recordBadInput, recordWorkloadTick } from './workload';

/** One real scrape of one tick of the workload (and the refused inputs), from the package's own endpoint. */
export async function scrapeOneTick(): Promise<string> {
  const telemetry = initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { host: '127.0.0.1', port: 0 },
    serviceName: 'shop',
  });
  await telemetry.ready;
  recordWorkloadTick(telemetry.metrics);
  recordBadInput(telemetry.metrics);
  const exposition = await (await fetch(telemetry.prometheus!.url)).text();
  await telemetry.shutdown({ timeoutMillis: 2000 });
  return exposition;
}

/** One series of a scrape: its text (`name{labels}`), family type and scraped value. */
export interface ScrapedSeries {
  readonly name: string;
  readonly series: string;
  readonly labels: Record<string, string>;
  readonly type: 'counter' | 'histogram' | 'gauge' | 'unknown';
  readonly value: number;
}

/** Label text as the exposition writes it (escapes of the text format), for the OpenMetrics history. */
function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(
    ([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** The series of a scrape, read with the shared strict exposition parser (tests/support/exposition). */
export function scrapedSeries(text: string): ScrapedSeries[] {
  const exposition = parseExposition(text);
  const result: ScrapedSeries[] = [];
  for (const family of exposition.families.values()) {
    const type = ['counter', 'histogram', 'gauge'].includes(family.type)
      ? (family.type as ScrapedSeries['type'])
      : 'unknown';
    for (const sample of family.samples) {
      result.push({
        name: sample.name,
        series: `${sample.name}${labelText(sample.labels)}`,
        labels: { ...sample.labels },
        type,
        value: sample.value,
      });
    }
  }
  return result;
}

/** How much of a tick's increments a series gets at time t (epoch seconds). 0 stops a counter, 1 is normal; a
 * gauge is its scraped value times this. */
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
 * timestamps, by its scraped per-tick value times `ticksPerSecond` times the elapsed seconds times the schedule; a
 * gauge is its scraped value times the schedule.
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
      const sample = cumulative ? Math.round(value * 1e6) / 1e6 : series.value * schedule(series, t);
      lines.push(`${series.series} ${sample} ${t}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}
