/**
 * THE scrape path: how every `/metrics` endpoint of the package answers a request. The standalone server and the
 * mountable `metricsHandler` of the pull reader, the cluster worker's handler, and every framework adapter
 * (Express, Fastify, NestJS, Web `Request`/`Response`) build their answer here, so they check credentials in the
 * same order, refuse the same requests with the same words, and negotiate OpenMetrics, gzip and `Vary` alike.
 *
 * Owns: the order of the checks (credentials first, so an anonymous client learns nothing, then the method, then
 * whether there is an exposition to serve), the refusal answers (401 with its challenge, 405 with `Allow`, 503
 * with the reason or when the collection missed the scrape's deadline, 500 when collection fails), handing the
 * scraper's own deadline (negotiation.ts) to the source, the successful answer (format and gzip from negotiation.ts), the
 * once-only warning for an open endpoint reached on a non-loopback address, and writing an answer to a Node
 * `ServerResponse`. Must not touch: routing (which path is `/metrics` is the server's or framework's business),
 * what the exposition contains (the serializer), the credential rules themselves (scraper-auth.ts).
 *
 * An answer is a plain `{ status, headers, body }`: each framework writes it its own way (a Node response, a
 * Fastify reply, a Web `Response`), and none of them decides anything about it.
 */
import { gzip } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { diag, RateLimitedWarnings, TimeoutError } from '../../support';
import { acceptsGzip, chooseFormat, contentTypeOf, scrapeDeadlineMillis } from './negotiation';
import { scraperAuth, warnIfExposed, type ScraperCredentials } from './scraper-auth';
import type { ExpositionFormat } from './serializer';

/** The request fields a scrape is decided on, read through one small interface whatever the framework. */
export interface ScrapeRequest {
  readonly method: string;
  /** A request header by lower-case name (several values joined with `, `), or undefined. */
  header(name: string): string | undefined;
  /** The local address the request arrived on, when the framework exposes it (for the open-endpoint warning). */
  readonly localAddress?: string;
}

/** What an endpoint answers: written as is by the server or framework adapter. */
export interface ScrapeAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** What a scrape tells its source beyond the format. */
export interface ScrapeHints {
  /**
   * The scraper's own deadline for this scrape (ms, its header less a margin, at least 100 ms), when it sent one
   * (negotiation.ts, scrapeDeadlineMillis).
   */
  readonly timeoutMillis?: number;
}

/**
 * Renders the exposition in a format; rejects when it cannot (an `ExpositionUnavailable` answers 503, and so does
 * a `TimeoutError`: the collection missed its deadline).
 */
export type ExpositionSource = (format: ExpositionFormat, hints?: ScrapeHints) => Promise<string>;

/** Credentials (`{ bearerToken }`, `{ username, password }`) or your own check of the framework's request. */
export type ScrapeAuth<Raw> = ScraperCredentials | ((request: Raw) => boolean);

/** An exposition that cannot be produced for a reason the scraper should see (503), e.g. no cluster primary. */
export class ExpositionUnavailable extends Error {
  override readonly name = 'ExpositionUnavailable';
}

export interface ScrapeEndpointOptions<Raw> {
  /** The exposition; undefined answers 503 with `unavailableReason`. */
  readonly source: ExpositionSource | undefined;
  /** Require credentials; without them the endpoint is open. */
  readonly auth?: ScrapeAuth<Raw>;
  /** How the endpoint is named in messages and warnings (`metricsMiddleware`, `Prometheus exporter`). */
  readonly where: string;
  /**
   * Warn once when an open endpoint answers a request that arrived on a non-loopback address (mounts on the app's
   * own server, which the package did not bind). The standalone server warns when it starts listening instead.
   */
  readonly warnWhenOpen?: boolean;
  /** How the auth option is named in configuration errors. Default `<where>: auth`. */
  readonly authOption?: string;
  /** Body of the 503 answer when there is no source. */
  readonly unavailableReason?: string;
}

/** A configured `/metrics` endpoint. `Raw` is the framework's request type, handed to an auth function. */
export interface ScrapeEndpoint<Raw> {
  /** The whole answer to a scrape: refusal or exposition. Never rejects. */
  answer(request: ScrapeRequest, raw: Raw): Promise<ScrapeAnswer>;
  /**
   * The refusal of an unauthenticated request, or undefined when it may proceed. For servers that route after
   * authenticating (the standalone server answers 401 before 404, so paths stay secret).
   */
  deny(request: ScrapeRequest, raw: Raw): ScrapeAnswer | undefined;
  /** The refusal (credentials, then method) of a request, or undefined when it may be served. */
  refuse(request: ScrapeRequest, raw: Raw): ScrapeAnswer | undefined;
}

const TEXT = 'text/plain; charset=utf-8';
/** Sent by Prometheus (and scrapers built on its scrape code) with its `scrape_timeout`, in seconds. */
const SCRAPE_TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds';
const CHALLENGE_REALM = 'Bearer realm="metrics"';
const DEFAULT_UNAVAILABLE =
  'metrics unavailable: initialise otel-business-metrics with the prometheus exporter\n';

/** A hung collection is said once a minute per endpoint, not at every scrape. */
const lateWarnings = new RateLimitedWarnings();

/** Answers of the refusals, the same words on every endpoint. */
function plain(status: number, body: string, extra: Record<string, string> = {}): ScrapeAnswer {
  return { status, headers: { 'content-type': TEXT, ...extra }, body };
}

/**
 * Build an endpoint. Credentials that could never match (an empty token, a username with `:`) throw a
 * `TypeError` here, at configuration time, naming `where`.
 */
export function scrapeEndpoint<Raw>(options: ScrapeEndpointOptions<Raw>): ScrapeEndpoint<Raw> {
  const { source, where } = options;
  const verify = verifierOf(options.auth, options.authOption ?? `${where}: auth`);
  let warned = verify !== undefined || options.warnWhenOpen !== true;
  const deny = (request: ScrapeRequest, raw: Raw): ScrapeAnswer | undefined => {
    // The app, not the package, decides where a mount listens: requests show the address. Loopback ones say nothing
    // of the others (a server on 0.0.0.0 answers both), so the check goes on until one arrives from elsewhere.
    if (!warned) warned = warnIfExposed(where, request.localAddress, false);
    if (verify === undefined || verify.check(request, raw)) return undefined;
    return plain(401, 'metrics require authentication\n', { 'www-authenticate': verify.challenge });
  };
  const refuse = (request: ScrapeRequest, raw: Raw): ScrapeAnswer | undefined => {
    const denied = deny(request, raw);
    if (denied) return denied;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return plain(405, 'use GET or HEAD to scrape metrics\n', { allow: 'GET, HEAD' });
    }
    return undefined;
  };
  return {
    deny,
    refuse,
    async answer(request, raw) {
      const refused = refuse(request, raw);
      if (refused) return refused;
      if (source === undefined) return plain(503, options.unavailableReason ?? DEFAULT_UNAVAILABLE);
      return exposition(request, source, where);
    },
  };
}

interface Verifier {
  readonly challenge: string;
  check(request: ScrapeRequest, raw: unknown): boolean;
}

function verifierOf<Raw>(auth: ScrapeAuth<Raw> | undefined, option: string): Verifier | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth === 'function') {
    return {
      challenge: CHALLENGE_REALM,
      check(_request, raw) {
        try {
          return auth(raw as Raw) === true;
        } catch {
          // A throwing check denies: a scraper must never get metrics because the check broke.
          return false;
        }
      },
    };
  }
  const credentials = scraperAuth(auth, option);
  return {
    challenge: credentials.challenge,
    check: (request) => credentials.isAuthorized(request.header('authorization')),
  };
}

/** The successful answer: negotiated format, gzip when asked, `Vary` always. */
async function exposition(
  request: ScrapeRequest,
  source: ExpositionSource,
  where: string,
): Promise<ScrapeAnswer> {
  const format = chooseFormat(request.header('accept'));
  let text: string;
  try {
    text = await source(format, {
      timeoutMillis: scrapeDeadlineMillis(request.header(SCRAPE_TIMEOUT_HEADER)),
    });
  } catch (error) {
    if (error instanceof TimeoutError) {
      // client_golang's answer to a scrape past its handler's timeout: the scraper sees why, not a hang.
      lateWarnings.warn(
        where,
        () =>
          `otel-business-metrics: ${where}: ${error.message}; the scrape was answered 503. Something in the ` +
          "collection never finished (an observable instrument's callback, a metric producer); scrapes that " +
          'come while it runs share it instead of starting another (docs/prometheus.md#a-scrape-always-gets-an-answer)',
      );
      return plain(503, `# ${error.message}\n`);
    }
    if (error instanceof ExpositionUnavailable) {
      diag.warn(`otel-business-metrics: ${where}: ${error.message}`);
      return plain(503, `# ${error.message}\n`);
    }
    diag.error(`${where}: metrics collection failed`, error);
    return plain(500, '# metrics collection failed\n');
  }
  // A cache between scraper and app must never serve one format or encoding for another.
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(format),
    vary: 'Accept, Accept-Encoding',
  };
  let body: string | Buffer = text;
  if (acceptsGzip(request.header('accept-encoding'))) {
    try {
      body = await gzipped(text);
      headers['content-encoding'] = 'gzip';
    } catch {
      // Not expected; the uncompressed body is still a valid answer.
    }
  }
  headers['content-length'] = String(
    typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length,
  );
  return { status: 200, headers, body };
}

function gzipped(body: string): Promise<Buffer> {
  // Asynchronous: a multi-megabyte exposition is compressed on libuv's thread pool, not on the app's event loop.
  return new Promise((resolve, reject) =>
    gzip(body, (error, compressed) => (error ? reject(error) : resolve(compressed))),
  );
}

/** The scrape fields of a Node `IncomingMessage` (or anything shaped like one: Express, Fastify's `raw`). */
export function nodeScrapeRequest(req: {
  readonly method?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly socket?: { readonly localAddress?: string } | null;
}): ScrapeRequest {
  return {
    method: req.method ?? 'GET',
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    localAddress: req.socket?.localAddress,
  };
}

/** Write an answer to a Node response (unless the socket is gone); never throws. */
export function writeNodeAnswer(res: ServerResponse, answer: ScrapeAnswer): void {
  try {
    if (res.headersSent || res.destroyed) {
      res.end();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  } catch (error) {
    diag.error('otel-business-metrics: could not answer a scrape', error);
  }
}

/**
 * A Node `(req, res)` handler serving an endpoint: the pull reader's `metricsHandler` and the cluster worker's.
 * Adapters that hold a Node response use it too.
 */
export function nodeScrapeHandler<Raw>(
  endpoint: ScrapeEndpoint<Raw>,
): (req: Parameters<typeof nodeScrapeRequest>[0] & Raw, res: ServerResponse) => void {
  return (req, res) => {
    void endpoint.answer(nodeScrapeRequest(req), req).then((answer) => writeNodeAnswer(res, answer));
  };
}

export type { ExpositionFormat };
