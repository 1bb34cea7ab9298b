/**
 * Invariants every scrape must satisfy whatever was recorded: it is valid text format (promtool and a strict
 * parser agree), series per business metric stay within the lifetime cap, every label value stays within the
 * length cap and its label's vocabulary bound, values are finite and non-negative, histograms are consistent.
 *
 * Owns: these checks, for the safety tests. Must not touch: src/.
 */
import { spawnSync } from 'node:child_process';
import {
  BUSINESS_METRIC_LIST,
  DEFAULT_LABEL_POLICIES,
  DEFAULT_LIMITS,
  ISO_CURRENCY_CODES,
  prometheusFamilyName,
  type BusinessLabelKey,
  type BusinessMetricsLimits,
  type LabelPolicy,
} from '../../../src';
import { requireBinary } from '../../support/binaries';
import { parseExposition, type Exposition, type ExpositionSample } from '../../support/exposition';

export const promtool = requireBinary('promtool', 'apt-get install prometheus');

/** `promtool check metrics` on the exposition (via stdin); throws with promtool's words unless it is clean. */
export function expectPromtoolClean(exposition: string): void {
  if (!promtool) throw new Error('promtool is not installed');
  const result = spawnSync(promtool, ['check', 'metrics'], {
    input: exposition,
    encoding: 'utf8',
    timeout: 30000,
  });
  if (result.status !== 0) {
    throw new Error(`promtool check metrics exited ${result.status}: ${result.stdout}${result.stderr}`);
  }
}

/** The label keys of a sample that the package adds itself (not business labels). */
const PACKAGE_LABELS = new Set(['otel_scope_name', 'otel_scope_version', 'le']);

/** The most distinct values a label can show: its policy's values plus `other` and `unknown`. */
export function vocabularyBound(policy: LabelPolicy): number {
  return policy.kind === 'allow'
    ? policy.values.length + 2
    : policy.maxValues + (policy.known?.length ?? 0) + 2;
}

export interface ScrapeSummary {
  readonly exposition: Exposition;
  /** Distinct label sets (le excluded) per business family. */
  readonly seriesPerFamily: Map<string, number>;
}

/** Series identity without `le`, so a histogram's buckets count as one series. */
function seriesKey(sample: ExpositionSample): string {
  return JSON.stringify(Object.entries(sample.labels).filter(([key]) => key !== 'le'));
}

/**
 * Parses and checks one scrape against the limits in force. Returns what it measured so tests can assert more.
 * A scrape without any business family fails: every caller recorded something, and checking nothing must not pass.
 */
export function checkScrape(text: string, limits: BusinessMetricsLimits = {}): ScrapeSummary {
  const exposition = parseExposition(text);
  const maxSeries = limits.maxSeriesPerMetric ?? DEFAULT_LIMITS.maxSeriesPerMetric;
  const maxLength = limits.maxLabelLength ?? DEFAULT_LIMITS.maxLabelLength;
  const policies: Record<string, LabelPolicy> = { ...DEFAULT_LABEL_POLICIES, ...(limits.labels ?? {}) };
  const seriesPerFamily = new Map<string, number>();

  for (const definition of BUSINESS_METRIC_LIST) {
    const name = prometheusFamilyName(definition);
    const family = exposition.families.get(name);
    if (!family) continue;
    const series = new Set(family.samples.map(seriesKey));
    seriesPerFamily.set(name, series.size);
    // The lifetime cap, plus the one all-"other" series that collects everything beyond it.
    if (series.size > maxSeries + 1) throw new Error(`${name} has ${series.size} series (cap ${maxSeries})`);

    const distinct = new Map<string, Set<string>>();
    for (const sample of family.samples) {
      const keys = Object.keys(sample.labels).filter((key) => !PACKAGE_LABELS.has(key));
      if (JSON.stringify(keys) !== JSON.stringify(definition.labels)) {
        throw new Error(
          `${sample.name} has labels ${keys.join(',')}, expected ${definition.labels.join(',')}`,
        );
      }
      for (const key of keys) {
        const value = sample.labels[key];
        if (value.length === 0 || value.length > maxLength) {
          throw new Error(`${sample.name}{${key}} value of length ${value.length} (cap ${maxLength})`);
        }
        // eslint-disable-next-line no-control-regex
        if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) {
          throw new Error(`${sample.name}{${key}} has control characters: ${JSON.stringify(value)}`);
        }
        let values = distinct.get(key);
        if (!values) distinct.set(key, (values = new Set()));
        values.add(value);
      }
      if (!Number.isFinite(sample.value) || sample.value < 0) {
        throw new Error(`${sample.name} ${JSON.stringify(sample.labels)} has value ${sample.value}`);
      }
    }
    for (const [key, values] of distinct) {
      // Currency labels have no policy: their values are ISO 4217 codes (plus `other` for the overflow series).
      const bound =
        key === 'currency' || key === 'reporting_currency'
          ? ISO_CURRENCY_CODES.length + 1
          : vocabularyBound(policies[key as BusinessLabelKey]);
      if (values.size > bound)
        throw new Error(`${name}{${key}} has ${values.size} distinct values (bound ${bound})`);
    }
    if (definition.kind === 'histogram') checkHistograms(exposition, name);
  }
  if (![...seriesPerFamily.values()].some((series) => series > 0)) {
    throw new Error(
      `the scrape has no business family to check (families: ${[...exposition.families.keys()].join(', ')})`,
    );
  }
  return { exposition, seriesPerFamily };
}

/** `_count` equals the +Inf bucket, buckets never decrease with `le`, and the sum is finite. */
export function checkHistograms(exposition: Exposition, name: string): void {
  const byKey = new Map<string, ExpositionSample[]>();
  for (const sample of exposition.find(`${name}_bucket`)) {
    const key = seriesKey(sample);
    byKey.set(key, [...(byKey.get(key) ?? []), sample]);
  }
  for (const count of exposition.find(`${name}_count`)) {
    const buckets = byKey.get(seriesKey(count));
    if (!buckets) throw new Error(`${name}_count without buckets`);
    const ordered = buckets
      .map((bucket) => ({
        le: Number(bucket.labels.le === '+Inf' ? Infinity : bucket.labels.le),
        value: bucket.value,
      }))
      .sort((a, b) => a.le - b.le);
    for (let i = 1; i < ordered.length; i++) {
      if (ordered[i].value < ordered[i - 1].value)
        throw new Error(`${name} buckets decrease at le=${ordered[i].le}`);
    }
    const inf = ordered[ordered.length - 1];
    if (inf.le !== Infinity || inf.value !== count.value) {
      throw new Error(`${name}_count ${count.value} differs from the +Inf bucket ${inf.value}`);
    }
  }
}

/** Value of a self-metric counter sample, 0 when absent. */
export function selfMetric(exposition: Exposition, name: string, labels: Record<string, string>): number {
  return exposition.find(name, labels).reduce((sum, sample) => sum + sample.value, 0);
}
