/**
 * OpenTelemetry -> Prometheus name translation for metric families and labels.
 *
 * Owns: the OpenTelemetry Collector's default metric-name normalization (its `prometheus` translator with
 * `add_metric_suffixes: true` and the `pkg.translator.prometheus.NormalizeName` gate on, the default), the
 * naming of the upstream JS exporter (@opentelemetry/exporter-prometheus 0.223) for users migrating from it,
 * label-name sanitization, the label-value text of an attribute value (what the exposition writes, and what a
 * cluster source sends for a value the wire cannot carry as is), and the family name of every catalog instrument. The catalog, the exporter, the
 * dashboard generator and the rule checks all name families through this module. Pure string functions: no SDK
 * state, no I/O.
 *
 * These run once per family or once per distinct attribute key, never per sample line, so clarity wins over
 * micro-optimisation here (the serializer caches their results).
 */

/**
 * The OTLP shape of a metric, which decides the type suffix: monotonic sums get `_total`, gauges with unit
 * `1` get `_ratio` (the Collector applies that to OTLP gauges only, not to up-down sums).
 */
export type OtlpMetricShape =
  'monotonicSum' | 'nonMonotonicSum' | 'gauge' | 'histogram' | 'exponentialHistogram';

/** How metric family names are derived. */
export type PrometheusMetricNaming = 'collector' | 'upstream';

// The Collector's UCUM -> Prometheus word tables (opentelemetry-collector-contrib
// pkg/translator/prometheus/normalize_name.go). Unknown units pass through as cleaned-up words.
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

// `m` means minute after a slash in the Collector's table (not metre), and `min` is not in it: kept as is.
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

function isAsciiAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * Splits on every character that is not an ASCII letter or digit. The Collector splits on non-(Unicode)
 * letters/digits; OpenTelemetry instrument names are ASCII-only, so this differs only for non-ASCII units,
 * where keeping the letters would produce an invalid Prometheus name.
 */
function tokens(text: string): string[] {
  const result: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const alnum = i < text.length && isAsciiAlphanumeric(text.charCodeAt(i));
    if (alnum && start < 0) start = i;
    else if (!alnum && start >= 0) {
      result.push(text.slice(start, i));
      start = -1;
    }
  }
  return result;
}

function unitWord(unit: string, table: Readonly<Record<string, string>>): string {
  const trimmed = unit.trim();
  // `{packets}`, `{request}/s`: annotations carry no Prometheus unit.
  if (trimmed === '' || trimmed.includes('{') || trimmed.includes('}')) return '';
  const word = Object.prototype.hasOwnProperty.call(table, trimmed) ? table[trimmed] : trimmed;
  return tokens(word).join('_');
}

/**
 * The family name the OpenTelemetry Collector's Prometheus exporter (and Prometheus's OTLP receiver) gives a
 * metric by default: name split into alphanumeric tokens joined by `_`; the unit's word appended unless the
 * name already has that token (`s` -> `seconds`, `By` -> `bytes`, `{annotations}` dropped, `1` -> nothing);
 * `x/y` -> `x_per_y`; `total` moved to the end for monotonic sums (never doubled); `ratio` for unit-`1` gauges;
 * `_` prefixed when the result starts with a digit. Returns `''` when nothing valid remains.
 *
 * @example otelToPrometheusName('http.server.request.duration', 's', 'histogram') // 'http_server_request_duration_seconds'
 */
export function otelToPrometheusName(name: string, unit: string | undefined, shape: OtlpMetricShape): string {
  let nameTokens = tokens(name);
  const slash = (unit ?? '').indexOf('/');
  const mainUnit = slash < 0 ? (unit ?? '') : (unit ?? '').slice(0, slash);
  const perUnit = slash < 0 ? '' : (unit ?? '').slice(slash + 1);
  const main = unitWord(mainUnit, UNIT_WORDS);
  if (main !== '' && !nameTokens.includes(main)) nameTokens.push(main);
  const per = unitWord(perUnit, PER_UNIT_WORDS);
  if (per !== '' && !nameTokens.includes(per)) nameTokens.push('per', per);
  if (shape === 'monotonicSum') nameTokens = [...nameTokens.filter((token) => token !== 'total'), 'total'];
  if (unit === '1' && shape === 'gauge')
    nameTokens = [...nameTokens.filter((token) => token !== 'ratio'), 'ratio'];
  const joined = nameTokens.join('_');
  return joined !== '' && isDigit(joined.charCodeAt(0)) ? `_${joined}` : joined;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Replaces every character outside `[a-zA-Z0-9_]` with `_` and collapses runs of `_`, exactly like the
 * upstream JS exporter's sanitizer. (Its output never contains `__`, so no reserved `__` label can appear.)
 */
function sanitizeLikeUpstream(text: string): string {
  let out = '';
  let lastUnderscore = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isAsciiAlphanumeric(code)) {
      out += text[i];
      lastUnderscore = false;
    } else if (!lastUnderscore) {
      out += '_';
      lastUnderscore = true;
    }
  }
  return out;
}

/**
 * The family name @opentelemetry/exporter-prometheus 0.223 gives a metric (no unit suffix; `_total` appended
 * to monotonic sums unless the name already ends with it). Returns `''` when the result would be invalid.
 */
export function upstreamPrometheusName(name: string, shape: OtlpMetricShape): string {
  // Upstream escapes backslashes and newlines before sanitizing; both become `_` either way.
  let result = sanitizeLikeUpstream(name);
  if (result === '' || result === '_') return '';
  if (isDigit(result.charCodeAt(0))) result = `_${result}`;
  if (shape === 'monotonicSum' && !result.endsWith('_total')) result += '_total';
  return result;
}

/** The family name for a metric under the chosen naming scheme. */
export function prometheusMetricName(
  name: string,
  unit: string | undefined,
  shape: OtlpMetricShape,
  naming: PrometheusMetricNaming = 'collector',
): string {
  return naming === 'upstream'
    ? upstreamPrometheusName(name, shape)
    : otelToPrometheusName(name, unit, shape);
}

/**
 * A valid Prometheus label name for an attribute key: like the upstream exporter (invalid characters -> `_`,
 * runs of `_` collapsed), plus the Collector's `key_` prefix for a leading digit, where upstream would emit an
 * invalid name. Returns `''` for an empty key (the label is then omitted).
 */
export function prometheusLabelName(key: string): string {
  const sanitized = sanitizeLikeUpstream(key);
  return sanitized !== '' && isDigit(sanitized.charCodeAt(0)) ? `key_${sanitized}` : sanitized;
}

/**
 * The Prometheus family name of a catalog instrument: the Collector translation above, which the package's own
 * exporter, the OpenTelemetry Collector and Prometheus's OTLP receiver all apply, so one function names a
 * family on every path (`business_revenue_cents` counter -> `business_revenue_cents_total`).
 */
export function prometheusFamilyName(definition: {
  readonly name: string;
  readonly kind: 'counter' | 'histogram' | 'gauge' | 'updowncounter';
  readonly unit: string;
}): string {
  return otelToPrometheusName(definition.name, definition.unit, shapeOfKind(definition.kind));
}

/**
 * Maps a catalog-style kind to the OTLP shape the package's instruments produce (counters are monotonic sums;
 * catalog gauges are observable gauges).
 */
export function shapeOfKind(kind: 'counter' | 'histogram' | 'gauge' | 'updowncounter'): OtlpMetricShape {
  switch (kind) {
    case 'counter':
      return 'monotonicSum';
    case 'updowncounter':
      return 'nonMonotonicSum';
    default:
      return kind;
  }
}

/**
 * The string form of an attribute value, as upstream: strings as is, everything else JSON-encoded
 * (`true`, `1.5`, `["a","b"]`, `null` for NaN). Unlike upstream it never throws: values JSON cannot encode
 * (functions, symbols, BigInt, circular objects) fall back to `String(value)`, then to `''`.
 */
export function attributeValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    const json: unknown = JSON.stringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // fall through to String()
  }
  try {
    return String(value);
  } catch {
    return '';
  }
}
