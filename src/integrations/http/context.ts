/**
 * Derives a session's funnel labels (traffic source, device type, experiment variant) from request headers and the
 * query string, with outputs bounded no matter what the client sends.
 *
 * Owns: the parsing and the bounded vocabularies of these three labels. Must not touch: metrics, frameworks (it
 * reads requests through request.ts, so Node and Web requests both fit), or any header beyond the ones named here.
 */
import { requestView, type AnyRequest, type RequestView } from './request';

export type { AnyRequest, RequestLike, WebRequestLike } from './request';

export type DerivedDeviceType = 'mobile' | 'tablet' | 'desktop' | 'bot' | 'unknown';

/** The funnel labels of a session; pass them straight to `CheckoutTracker`. */
export interface DerivedSessionContext {
  /** A known source name, `direct`, `referral`, or `other`. */
  readonly source: string;
  readonly deviceType: DerivedDeviceType;
  /** A variant from the allow-list, the default variant when none was sent, or `other`. */
  readonly experimentVariant: string;
}

export interface SessionContextOptions {
  /** `utm_source` values (after normalisation) recorded as themselves; anything else becomes `other`. */
  readonly sources?: readonly string[];
  /** Extra normalised `utm_source` spellings mapped to a source name (`fb` -> `facebook`). */
  readonly sourceAliases?: Readonly<Record<string, string>>;
  /** Extra referrer hosts (without `www.`) mapped to a source name; subdomains match too. Read as it is at its first use. */
  readonly referrerHosts?: Readonly<Record<string, string>>;
  /** Your own hosts: referrers from them are internal navigation and count as `direct`. The Host header always counts. */
  readonly ownHosts?: readonly string[];
  /** Allowed experiment variants. Default `['control', 'A', 'B']`. */
  readonly variants?: readonly string[];
  /** Variant used when the request carries none. Default `control` (the seed's default). */
  readonly defaultVariant?: string;
  /** Cookie holding the variant. Default `experiment_variant`. */
  readonly variantCookie?: string;
  /** Header holding the variant (set by an edge or experiment service); wins over the cookie. Default `x-experiment-variant`. */
  readonly variantHeader?: string;
}

/** `utm_source` values recorded as themselves unless `sources` is given. */
export const DEFAULT_UTM_SOURCES: readonly string[] = [
  'google',
  'bing',
  'duckduckgo',
  'yahoo',
  'facebook',
  'instagram',
  'twitter',
  'linkedin',
  'reddit',
  'youtube',
  'tiktok',
  'pinterest',
  'newsletter',
  'email',
  'google_ads',
  'facebook_ads',
  'partner',
  'affiliate',
];

const DEFAULT_SOURCE_ALIASES: Readonly<Record<string, string>> = {
  fb: 'facebook',
  ig: 'instagram',
  x: 'twitter',
  adwords: 'google_ads',
  mail: 'email',
};

/** Referrer host (or parent domain) -> source name. `google.<any tld>` is handled separately. */
const DEFAULT_REFERRER_HOSTS: Readonly<Record<string, string>> = {
  'bing.com': 'bing',
  'duckduckgo.com': 'duckduckgo',
  'yahoo.com': 'yahoo',
  'facebook.com': 'facebook',
  'fb.com': 'facebook',
  'fb.me': 'facebook',
  'instagram.com': 'instagram',
  't.co': 'twitter',
  'twitter.com': 'twitter',
  'x.com': 'twitter',
  'linkedin.com': 'linkedin',
  'lnkd.in': 'linkedin',
  'reddit.com': 'reddit',
  'youtube.com': 'youtube',
  'youtu.be': 'youtube',
  'tiktok.com': 'tiktok',
  'pinterest.com': 'pinterest',
};

/** Labels of the longest host in `hosts` (0 for none): no longer suffix of a referrer's host can be one of them. */
function mostLabels(hosts: Readonly<Record<string, string>> | undefined): number {
  if (hosts === undefined) return 0;
  // Counted once per hosts object, not per request: an app passes the same options to every call.
  let most = mostLabelsOf.get(hosts);
  if (most === undefined) {
    most = 0;
    for (const host of Object.keys(hosts)) most = Math.max(most, host.split('.').length);
    mostLabelsOf.set(hosts, most);
  }
  return most;
}

const mostLabelsOf = new WeakMap<object, number>();

const DEFAULT_REFERRER_HOST_LABELS = mostLabels(DEFAULT_REFERRER_HOSTS);

export const DEFAULT_EXPERIMENT_VARIANTS: readonly string[] = ['control', 'A', 'B'];

// Inputs are cut before any parsing or regex runs, so hostile megabyte headers cost nothing.
const MAX_URL_LENGTH = 2048;
const MAX_USER_AGENT_LENGTH = 512;
const MAX_COOKIE_HEADER_LENGTH = 4096;
const MAX_UTM_LENGTH = 64;
const MAX_VARIANT_LENGTH = 64;

/**
 * Derive the funnel labels of the session this request starts. Call it once, when the session begins, and keep
 * the result in the session: later requests carry your own pages as referrer.
 */
export function deriveSessionContext(
  req: AnyRequest,
  options: SessionContextOptions = {},
): DerivedSessionContext {
  const view = requestView(req);
  return {
    source: sourceOf(view, options),
    deviceType: deriveDeviceType(view.header('user-agent')),
    experimentVariant: variantOf(view, options),
  };
}

/** Traffic source: `utm_source` if present, else the referrer's host, else `direct`. */
export function deriveSource(req: AnyRequest, options: SessionContextOptions = {}): string {
  return sourceOf(requestView(req), options);
}

function sourceOf(req: RequestView, options: SessionContextOptions): string {
  const utm = utmSource(req.url);
  if (utm !== undefined) return classifyUtmSource(utm, options);
  const referrer = req.header('referer') ?? req.header('referrer');
  if (!referrer) return 'direct';
  return classifyReferrer(referrer, ownHostsOf(req, options), options);
}

/** Map a raw `utm_source` value to a bounded source name. */
export function classifyUtmSource(raw: string, options: SessionContextOptions = {}): string {
  const normalised = normaliseToken(raw);
  if (!normalised) return 'other';
  const allowed = options.sources ?? DEFAULT_UTM_SOURCES;
  const aliases: Record<string, string> = { ...DEFAULT_SOURCE_ALIASES, ...options.sourceAliases };
  const candidate = hasOwn(aliases, normalised) ? normaliseToken(aliases[normalised] ?? '') : normalised;
  return allowed.includes(candidate) ? candidate : 'other';
}

function classifyReferrer(
  referrer: string,
  ownHosts: ReadonlySet<string>,
  options: SessionContextOptions,
): string {
  let host: string;
  try {
    const url = new URL(referrer.slice(0, MAX_URL_LENGTH));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'other';
    host = url.hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return 'other';
  }
  if (!host) return 'other';
  if (ownHosts.has(host) || ownHosts.has(host.replace(/^www\./, ''))) return 'direct';
  const bare = host.replace(/^www\./, '');
  if (/(^|\.)google(\.[a-z]{2,3}){1,2}$/.test(bare)) return 'google';
  const hosts = { ...DEFAULT_REFERRER_HOSTS, ...options.referrerHosts };
  // Walk up the domain: m.facebook.com -> facebook.com, starting at the longest suffix a known host could be. From
  // the first label, a client's host of a thousand labels cost a thousand suffixes built and looked up (5 ms).
  const labels = bare.split('.');
  const longest = Math.max(DEFAULT_REFERRER_HOST_LABELS, mostLabels(options.referrerHosts));
  for (let i = Math.max(0, labels.length - longest); i < labels.length - 1; i++) {
    const domain = labels.slice(i).join('.');
    if (hasOwn(hosts, domain)) return normaliseToken(hosts[domain] ?? '') || 'referral';
  }
  return 'referral';
}

/** Device class from a User-Agent string; an empty or missing agent is `unknown`. */
export function deriveDeviceType(userAgent: string | undefined): DerivedDeviceType {
  const ua = (userAgent ?? '').slice(0, MAX_USER_AGENT_LENGTH);
  if (!ua.trim()) return 'unknown';
  if (
    /bot|crawl|spider|slurp|bingpreview|facebookexternalhit|headlesschrome|lighthouse|curl\/|wget\/|python-requests|go-http-client|okhttp|java\/|phantomjs/i.test(
      ua,
    )
  ) {
    return 'bot';
  }
  if (/ipad|tablet|kindle|silk\/|playbook|android(?!.*mobi)/i.test(ua)) return 'tablet';
  if (/mobi|iphone|ipod|windows phone|blackberry|opera mini|iemobile/i.test(ua)) return 'mobile';
  return 'desktop';
}

/** Experiment variant from the variant header, then the variant cookie; allow-listed. */
export function deriveExperimentVariant(req: AnyRequest, options: SessionContextOptions = {}): string {
  return variantOf(requestView(req), options);
}

function variantOf(req: RequestView, options: SessionContextOptions): string {
  const variants = options.variants ?? DEFAULT_EXPERIMENT_VARIANTS;
  const headerName = (options.variantHeader ?? 'x-experiment-variant').toLowerCase();
  const raw = req.header(headerName) ?? cookieOf(req, options.variantCookie ?? 'experiment_variant');
  if (raw === undefined || raw.trim() === '') return options.defaultVariant ?? 'control';
  const value = raw.trim().slice(0, MAX_VARIANT_LENGTH + 1);
  return value.length <= MAX_VARIANT_LENGTH && variants.includes(value) ? value : 'other';
}

/** Read one cookie from the Cookie header (first occurrence), percent-decoded; undefined when absent. */
export function readCookie(req: AnyRequest, name: string): string | undefined {
  return cookieOf(requestView(req), name);
}

function cookieOf(req: RequestView, name: string): string | undefined {
  const header = req.header('cookie');
  if (!header) return undefined;
  for (const part of header.slice(0, MAX_COOKIE_HEADER_LENGTH).split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

function utmSource(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return undefined;
  try {
    const value = new URLSearchParams(url.slice(queryStart + 1, queryStart + 1 + MAX_URL_LENGTH)).get(
      'utm_source',
    );
    return value === null ? undefined : value;
  } catch {
    return undefined;
  }
}

/** Lowercase, `[a-z0-9_]` only, runs of anything else collapsed to one `_`, trimmed, at most 32 characters. */
function normaliseToken(raw: string): string {
  return raw
    .slice(0, MAX_UTM_LENGTH)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 32);
}

function ownHostsOf(req: RequestView, options: SessionContextOptions): ReadonlySet<string> {
  const hosts = new Set<string>();
  for (const host of options.ownHosts ?? []) hosts.add(host.toLowerCase().replace(/^www\./, ''));
  const hostHeader = req.header('host');
  if (hostHeader) {
    try {
      hosts.add(new URL(`http://${hostHeader.slice(0, 256)}`).hostname.toLowerCase());
    } catch {
      // A malformed Host header adds nothing.
    }
  }
  return hosts;
}

function hasOwn(record: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}
