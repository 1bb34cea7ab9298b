/**
 * The shape checks of initBusinessMetrics's options that TypeScript does for a TypeScript caller and nothing does
 * for a JavaScript one: every key is a known option (an unknown one throws, naming it and the nearest known one,
 * so `{ exporter: ['prometheus'] }` or `prometheus: { prot: 0 }` cannot silently mean the defaults), and options
 * of an exporter that is not selected throw, naming where the exporter list came from (warned about and ignored
 * when OTEL_METRICS_EXPORTER chose the list: an OTEL_* value does not make init throw, options.ts's one exception
 * aside).
 *
 * Owns: the key lists of every options object (held to the TypeScript interfaces by `satisfies`, so a new
 * option that is not listed here fails the build) and those two rules. Must not touch: value rules (each option's
 * owner checks its values), environment parsing (options.ts), the SDK.
 */
import type { MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { ActiveUsersOptions } from '../active-users/tracker';
import type { RedisStoreOptions } from '../active-users/redis-store';
import type { ClusterOptions } from '../cluster/options';
import type { BusinessMetricsLimits } from '../metrics/recorder';
import type { MoneyConfig } from '../money/money';
import type { ReportingCurrencyOptions } from '../money/exchange-rates';
import type { RuntimeMetricsOptions } from '../runtime/node-runtime';
import type { AllowListPolicy, CappedPolicy } from '../catalog/labels';
import type { InitOptions, OtlpOptions, PrometheusOptions } from './options';

/**
 * Known keys of an options object: `true` for a value whose own keys are not options (a string, a list, a map of
 * your names such as `otlp.headers`), a nested shape for an options object checked in turn, a function for a
 * value whose shape depends on it (label policies by `kind`, credentials by which keys they carry).
 */
type Shape = { readonly [key: string]: Shape | true | ((value: object) => Shape) };

/** `satisfies` holds a key list to the interface: every key listed, none extra. */
type KeysOf<T> = { readonly [K in keyof Required<T>]: Shape | true | ((value: object) => Shape) };

const ALLOW_POLICY = { kind: true, values: true } as const satisfies KeysOf<AllowListPolicy>;
const CAPPED_POLICY = { kind: true, maxValues: true, known: true } as const satisfies KeysOf<CappedPolicy>;
const labelPolicy = (policy: object): Shape =>
  (policy as { kind?: unknown }).kind === 'allow' ? ALLOW_POLICY : CAPPED_POLICY;

/** `limits.labels` is keyed by label names: those are checked by the guard (an unknown label is refused there). */
const labelPolicies = (labels: object): Shape =>
  Object.fromEntries(Object.keys(labels).map((label) => [label, labelPolicy]));

const LIMITS = {
  maxSeriesPerMetric: true,
  maxLabelLength: true,
  labels: labelPolicies,
  maxAmountCents: true,
  maxDurationSeconds: true,
  maxActiveUsers: true,
} as const satisfies KeysOf<BusinessMetricsLimits>;

const MONEY = {
  defaultCurrency: true,
  currencies: true,
  minorUnitExponents: true,
  reporting: { currency: true, rates: true } satisfies KeysOf<ReportingCurrencyOptions>,
} as const satisfies KeysOf<MoneyConfig>;

const ACTIVE_USERS = {
  precision: true,
  hashKey: true,
  maxUserIdLength: true,
  redis: {
    url: true,
    client: true,
    keyPrefix: true,
    flushIntervalMillis: true,
    timeoutMillis: true,
  } satisfies KeysOf<RedisStoreOptions>,
} as const satisfies KeysOf<ActiveUsersOptions>;

/** Bearer or basic credentials; which keys belong together is the auth module's rule, not a key question. */
const AUTH = { bearerToken: true, username: true, password: true } as const;

const PROMETHEUS = {
  host: true,
  port: true,
  endpoint: true,
  preventServerStart: true,
  auth: AUTH,
  finalScrapeTimeoutMillis: true,
  scrapeTimeoutMillis: true,
} as const satisfies KeysOf<PrometheusOptions>;

const OTLP = {
  protocol: true,
  url: true,
  headers: true,
  exportIntervalMillis: true,
  exportTimeoutMillis: true,
  temporality: true,
  compression: true,
} as const satisfies KeysOf<OtlpOptions>;

const INIT = {
  exporters: true,
  serviceName: true,
  resourceAttributes: true,
  prometheus: PROMETHEUS,
  otlp: OTLP,
  strict: true,
  limits: LIMITS,
  money: MONEY,
  activeUsers: ACTIVE_USERS,
  runtimeMetrics: { monitoringPrecision: true } satisfies KeysOf<RuntimeMetricsOptions>,
  env: true,
  cluster: { timeoutMillis: true, gauges: true } satisfies KeysOf<ClusterOptions>,
} as const satisfies KeysOf<InitOptions>;

/** Levenshtein distance, for "did you mean". Option names are short; this runs once per unknown key at init. */
function distance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(
        previous[j] + 1,
        previous[j - 1] + 1,
        diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return previous[b.length];
}

/**
 * The known key nearest to `key`: one that contains it or is contained in it (`maxSeries` ->
 * `maxSeriesPerMetric`), the closest in length among those; otherwise the smallest edit distance (ties: the first
 * in declaration order).
 */
export function nearest(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const overlapping = known
    .filter((candidate) => {
      const other = candidate.toLowerCase();
      return other.includes(lower) || lower.includes(other);
    })
    .sort((a, b) => Math.abs(a.length - key.length) - Math.abs(b.length - key.length));
  if (overlapping.length > 0) return overlapping[0];
  let best = known[0];
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** A plain options object: `{}` or `Object.create(null)`, not an array, a class instance or a primitive. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function checkKeys(value: Record<string, unknown>, shape: Shape, path: string): void {
  const known = Object.keys(shape);
  for (const key of Object.keys(value)) {
    const where = path ? `${path}.${key}` : key;
    const expected = shape[key];
    if (expected === undefined || !Object.hasOwn(shape, key)) {
      const suggestion = path ? `${path}.${nearest(key, known)}` : nearest(key, known);
      throw new TypeError(
        `initBusinessMetrics: unknown option "${where}"; did you mean "${suggestion}"? ` +
          `(${path ? `${path} takes` : 'options are'}: ${known.join(', ')})`,
      );
    }
    const child = value[key];
    if (expected === true || !isPlainObject(child)) continue; // a wrong type is its owner's error to name
    checkKeys(child, typeof expected === 'function' ? expected(child) : expected, where);
  }
}

/**
 * Throws a TypeError for the first option key that is not an option, naming it with its path
 * (`prometheus.prot`) and the nearest known key. Values are not checked here.
 */
export function checkOptionKeys(options: InitOptions): void {
  if (isPlainObject(options)) checkKeys(options, INIT, '');
}

type ExporterSpecLike = string | MetricReader | PushMetricExporter;

/** Push readers export on `otlp.exportIntervalMillis`: the OTLP exporter, console and your own PushMetricExporter. */
const PUSH_TIMING_KEYS: ReadonlySet<string> = new Set<keyof OtlpOptions>([
  'exportIntervalMillis',
  'exportTimeoutMillis',
]);

/** Keys set to something (an empty object, or keys set to undefined, configure nothing). */
function givenKeys(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return value === undefined ? [] : ['(value)'];
  return Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
}

function isPushExporter(exporter: ExporterSpecLike): boolean {
  if (exporter === 'otlp' || exporter === 'console') return true;
  return typeof exporter === 'object' && typeof (exporter as MetricReader).collect !== 'function';
}

/**
 * Options for an exporter that is not selected are a mistake said at start-up, not ignored:
 * `prometheus: { port }` without a `prometheus` exporter opens no port, and `otlp: { url }` without `otlp` sends
 * nothing. `otlp.exportIntervalMillis`/`exportTimeoutMillis` also time console and your own push exporters.
 *
 * @param from where the exporter list came from, for the message (`exporters`, `OTEL_METRICS_EXPORTER`, the default)
 * @param ignored given when the list came from the environment: called with the message instead of throwing, as an
 *   OTEL_* value must never stop the app (platforms set them cluster-wide); the options are then unused
 */
export function checkUnselectedExporterOptions(
  options: InitOptions,
  exporters: readonly ExporterSpecLike[],
  from: string,
  ignored?: (message: string) => void,
): void {
  const refuse = (message: string, remedy: string, kind: 'prometheus' | 'otlp'): void => {
    if (ignored) {
      ignored(`${message}; ignoring the ${kind} options (pass the exporters option to have this refused)`);
    } else {
      throw new TypeError(`initBusinessMetrics: ${message}: ${remedy}`);
    }
  };
  const selected = `the exporters are ${exporters.map((e) => (typeof e === 'string' ? e : (e.constructor?.name ?? 'custom'))).join(', ') || 'none'} (${from})`;
  if (givenKeys(options.prometheus).length > 0 && !exporters.includes('prometheus')) {
    refuse(
      `prometheus options are given, but ${selected}, so no Prometheus endpoint would start`,
      "add 'prometheus' to exporters, or remove the prometheus options",
      'prometheus',
    );
  }
  const given = givenKeys(options.otlp);
  if (given.length === 0 || exporters.includes('otlp')) return;
  const otlpOnly = given.filter((key) => !PUSH_TIMING_KEYS.has(key));
  if (otlpOnly.length > 0 || !exporters.some(isPushExporter)) {
    const listed = otlpOnly.length > 0 ? otlpOnly : given;
    const keys = listed.map((key) => `otlp.${key}`).join(', ');
    refuse(
      `${keys} ${listed.length === 1 ? 'is' : 'are'} given, but ${selected}, so nothing would be sent over OTLP`,
      "add 'otlp' to exporters, or remove the otlp options",
      'otlp',
    );
  }
}
