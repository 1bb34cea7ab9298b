/**
 * A small reader for the Prometheus text exposition format and OpenMetrics, enough to turn the package's own
 * `/metrics` output into numbers for the dashboard (and for tests).
 *
 * Owns: parsing sample lines (names, escaped label values, special float values, OpenMetrics exemplars) and
 * summing samples by label.
 * Must not touch: HTTP or the metrics SDK; it reads text only.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The OpenMetrics exemplar after the value (` # {trace_id="…",span_id="…"} value timestamp`), if any. */
  readonly exemplar?: Exemplar;
}

export interface Exemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Unix seconds, when the exemplar has a timestamp. */
  readonly timestamp?: number;
}

/** Parse every sample line of an exposition; comment and blank lines are skipped, malformed lines too. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

/** Parses `{k="v",...}` starting at `line[start] === '{'`; returns the labels and the index after `}`. */
function parseLabels(
  line: string,
  start: number,
): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (i < line.length && line[i] !== '}') {
    const keyMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!keyMatch || line[i + keyMatch[0].length] !== '=' || line[i + keyMatch[0].length + 1] !== '"') {
      return undefined;
    }
    i += keyMatch[0].length + 2;
    let value = '';
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        i += 2;
      } else {
        value += line[i];
        i++;
      }
    }
    labels[keyMatch[0]] = value;
    i++; // closing quote
    if (line[i] === ',') i++;
  }
  return { labels, end: i + 1 };
}

function parseNumber(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
  return Number.isNaN(value) && raw !== 'NaN' ? undefined : value;
}

function parseLine(line: string): Sample | undefined {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return undefined;
  const name = nameMatch[0];
  let i = name.length;
  let labels: Record<string, string> = {};
  if (line[i] === '{') {
    const parsed = parseLabels(line, i);
    if (!parsed) return undefined;
    labels = parsed.labels;
    i = parsed.end;
  }
  const rest = line.slice(i);
  const hash = rest.indexOf(' # {');
  const [rawValue] = (hash < 0 ? rest : rest.slice(0, hash)).trim().split(/\s+/);
  const value = parseNumber(rawValue);
  if (value === undefined) return undefined;
  if (hash < 0) return { name, labels, value };
  const exemplarLabels = parseLabels(rest, hash + 3);
  if (!exemplarLabels) return { name, labels, value };
  const [exemplarValue, timestamp] = rest.slice(exemplarLabels.end).trim().split(/\s+/);
  const parsedValue = parseNumber(exemplarValue);
  if (parsedValue === undefined) return { name, labels, value };
  return {
    name,
    labels,
    value,
    exemplar: { labels: exemplarLabels.labels, value: parsedValue, timestamp: parseNumber(timestamp) },
  };
}

/** Sum of samples named `name` whose labels include every pair in `match`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(match).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
  }
  return total;
}

/** Sums of samples named `name`, grouped by the value of label `by` (after filtering with `match`). */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  by: string,
  match: Readonly<Record<string, string>> = {},
): Map<string, number> {
  const groups = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (!Object.entries(match).every(([key, value]) => sample.labels[key] === value)) continue;
    const key = sample.labels[by] ?? '';
    groups.set(key, (groups.get(key) ?? 0) + sample.value);
  }
  return groups;
}
