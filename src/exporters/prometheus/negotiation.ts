/**
 * Content negotiation of a scrape, as pure functions (client_golang's shape): which exposition format (`Accept`),
 * whether to gzip (`Accept-Encoding`), and how long the scraper waits (`X-Prometheus-Scrape-Timeout-Seconds`). The one scrape path (scrape-endpoint.ts) answers with them on every
 * `/metrics` endpoint.
 *
 * Owns: parsing `Accept` / `Accept-Encoding` (media ranges, q-values) and the scraper's deadline header, the format
 * choice, the format's `Content-Type`. Must not touch: authentication, routing, writing answers, what the exposition contains.
 *
 * Why: Prometheus asks for OpenMetrics first (`application/openmetrics-text;version=1.0.0,...;q=0.75,
 * text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`) and sends `Accept-Encoding: gzip`; a 10,000-histogram exposition
 * is megabytes of text that gzip shrinks ~20x. Scrapers that ask for nothing (curl, older tools) keep 0.0.4 text.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { PROMETHEUS_DEFAULTS } from '../../config/defaults';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE, type ExpositionFormat } from './serializer';

/** What a scrape asked for. */
export interface Negotiated {
  readonly format: ExpositionFormat;
  readonly gzip: boolean;
}

const OPENMETRICS_MEDIA_TYPE = 'application/openmetrics-text';
/** OpenMetrics versions whose text this package's 1.0.0 output satisfies (0.0.1 is the same syntax). */
const OPENMETRICS_VERSIONS: ReadonlySet<string> = new Set(['1.0.0', '0.0.1']);
/** Headers longer than this are not parsed (hostile input); such a scrape gets the defaults. */
const MAX_HEADER_LENGTH = 4096;

interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

function header(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.length > MAX_HEADER_LENGTH ? '' : text;
}

function qualityOf(text: string | undefined): number {
  if (text === undefined) return 1;
  const q = Number(text);
  return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
}

function parseList(text: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of text.split(',')) {
    const pieces = part.split(';');
    const type = pieces[0].trim().toLowerCase();
    if (type === '') continue;
    const params = new Map<string, string>();
    for (let i = 1; i < pieces.length; i++) {
      const eq = pieces[i].indexOf('=');
      if (eq <= 0) continue;
      const value = pieces[i]
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      params.set(pieces[i].slice(0, eq).trim().toLowerCase(), value);
    }
    ranges.push({ type, params, q: qualityOf(params.get('q')) });
  }
  return ranges;
}

/** Media ranges this package answers with text 0.0.4 (anything else it does not serve is no competitor). */
function servesAsText(range: MediaRange): boolean {
  if (range.type === '*/*' || range.type === 'text/*') return true;
  const version = range.params.get('version');
  return range.type === 'text/plain' && (version === undefined || version === '0.0.4');
}

/**
 * The format for an `Accept` header: OpenMetrics when the scraper ranks `application/openmetrics-text`
 * (version 1.0.0, 0.0.1 or unspecified) at least as high as any format this package serves; otherwise 0.0.4
 * text. Formats it does not serve are not competitors: Prometheus with `created-timestamp-zero-ingestion`
 * ranks protobuf first, and must still get OpenMetrics, whose `_created` lines make a new series' first
 * increment count (docs/money.md#exact-to-the-cent).
 */
export function chooseFormat(accept: string | string[] | undefined): ExpositionFormat {
  let openMetrics = 0;
  let text = 0;
  for (const range of parseList(header(accept))) {
    if (range.type === OPENMETRICS_MEDIA_TYPE) {
      const version = range.params.get('version');
      if (version === undefined || OPENMETRICS_VERSIONS.has(version))
        openMetrics = Math.max(openMetrics, range.q);
    } else if (servesAsText(range)) {
      text = Math.max(text, range.q);
    }
  }
  return openMetrics > 0 && openMetrics >= text ? 'openmetrics' : 'prometheus';
}

/** True when `Accept-Encoding` accepts gzip (`gzip` or `*` with a q-value above 0, and gzip not refused). */
export function acceptsGzip(acceptEncoding: string | string[] | undefined): boolean {
  let gzipQ: number | undefined;
  let anyQ: number | undefined;
  for (const range of parseList(header(acceptEncoding))) {
    if (range.type === 'gzip' || range.type === 'x-gzip') gzipQ = Math.max(gzipQ ?? 0, range.q);
    else if (range.type === '*') anyQ = range.q;
  }
  return (gzipQ ?? anyQ ?? 0) > 0;
}

/**
 * The scrape's own deadline (ms) from the scraper's `X-Prometheus-Scrape-Timeout-Seconds` (Prometheus, the OTel
 * Collector's prometheus receiver and vmagent send their `scrape_timeout` with every scrape), less a share left for
 * the answer's trip, and never below `minScrapeDeadlineMillis` (100 ms): the header is whatever anyone who reaches
 * `/metrics` sends. Undefined when the header is absent or is no positive finite number of seconds in plain decimal
 * (`0`, negative, `1e3`, `NaN`, `Infinity`, several values, over 4096 characters): the endpoint's own deadline then
 * applies, as without the header. No ceiling here: every endpoint takes the shorter of this and its own deadline.
 */
export function scrapeDeadlineMillis(timeoutSeconds: string | string[] | undefined): number | undefined {
  const text = header(timeoutSeconds).trim();
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(text)) return undefined;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) return undefined;
  return Math.max(
    PROMETHEUS_DEFAULTS.minScrapeDeadlineMillis,
    Math.floor(seconds * 1000 * PROMETHEUS_DEFAULTS.scrapeHeaderShare),
  );
}

/** The format and encoding a request asked for. */
export function negotiate(headers: IncomingHttpHeaders): Negotiated {
  return { format: chooseFormat(headers.accept), gzip: acceptsGzip(headers['accept-encoding']) };
}

/** The `Content-Type` of a format. */
export function contentTypeOf(format: ExpositionFormat): string {
  return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_TEXT_CONTENT_TYPE;
}
