/**
 * `/metrics` on the application's own server, for every adapter: the one scrape path
 * (`exporters/prometheus/scrape-endpoint.ts`) fed from the `initBusinessMetrics` handle, answering Node and Web
 * requests.
 *
 * Owns: which exposition a handle serves (none without a Prometheus exporter: 503 with the reason; the handle's own,
 * given the scrape's hints, so a scraper's deadline bounds the collection as on the handle's endpoints), and serving
 * a bare `(req, res)` handler behind the same gate. Must not touch: the checks, negotiation and answers (the scrape
 * path's), frameworks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ExpositionUnavailable,
  nodeScrapeRequest,
  scrapeEndpoint,
  writeNodeAnswer,
  type ExpositionSource,
  type ScrapeAnswer,
  type ScrapeAuth,
} from '../../exporters/prometheus/scrape-endpoint';
import type { ExpositionFormat } from '../../exporters/prometheus/serializer';
import { scrapeExpositionOf } from '../../metrics/business-metrics';
import { scrapedRecorder } from '../../metrics/singleton';
import { requestView, type AnyRequest, type RequestLike } from './request';

/** The core's `telemetry.metricsHandler` signature. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The parts of the handle `initBusinessMetrics` returns that the adapters use. */
export interface TelemetryLike {
  readonly metrics: { getMetrics(format?: ExpositionFormat): Promise<string> };
  /** Present when a Prometheus exporter is configured: only then is there an exposition to serve. */
  readonly metricsHandler?: MetricsRequestHandler;
}

/** The telemetry handle returned by `initBusinessMetrics`, or a `(req, res)` handler of your own. */
export type MetricsSource =
  | {
      readonly metricsHandler?: MetricsRequestHandler;
      readonly metrics?: { getMetrics(format?: ExpositionFormat): Promise<string> };
    }
  | MetricsRequestHandler;

/** Scraper authentication: a bearer token, basic credentials, or your own check of the framework's request. */
export type MetricsAuth<Req> = ScrapeAuth<Req>;

export interface MetricsEndpointOptions<Req> {
  /** Require credentials; without this option the endpoint is open (bind the server to a private interface). */
  readonly auth?: MetricsAuth<Req>;
}

/** A `/metrics` endpoint on the app's server. `Req` is the framework's request, handed to an auth function. */
export interface MetricsEndpoint<Req> {
  /** The answer to a Node or Web request, for the adapter to write. Never rejects. */
  answer(request: AnyRequest, raw: Req): Promise<ScrapeAnswer>;
  /** Answer on a Node response; a `(req, res)` handler given as the source answers there itself. */
  serveNode(req: RequestLike, res: ServerResponse, raw: Req): void;
}

/**
 * A handle's exposition as a scrape source: the scrape's hints (the scraper's own deadline) reach the handle's
 * collection as they do on its own endpoints; a recorder the package did not build only gets the format.
 */
function expositionOf(metrics: { getMetrics(format?: ExpositionFormat): Promise<string> }): ExpositionSource {
  return scrapeExpositionOf(metrics) ?? ((format) => metrics.getMetrics(format));
}

/** The exposition of the live `initBusinessMetrics()` handle, wherever it was called (`undefined` as a source). */
function liveExposition(where: string): ExpositionSource {
  return async (format, hints) => {
    const live = scrapedRecorder();
    if (live === undefined) {
      throw new ExpositionUnavailable(
        `${where}: otel-business-metrics is not initialised (call initBusinessMetrics at start-up, e.g. in instrumentation.ts)`,
      );
    }
    return expositionOf(live)(format, hints);
  };
}

/**
 * Build an endpoint. `where` names the adapter's function in messages (`metricsMiddleware`). Without a source it
 * serves the live handle's exposition, whichever module called `initBusinessMetrics`.
 * @throws TypeError for credentials that could never match (see `scraperAuth`).
 */
export function metricsEndpoint<Req>(
  source: MetricsSource | undefined,
  options: MetricsEndpointOptions<Req>,
  where: string,
): MetricsEndpoint<Req> {
  const handler = typeof source === 'function' ? source : source?.metricsHandler;
  const metrics = typeof source === 'function' ? undefined : source?.metrics;
  const endpoint = scrapeEndpoint<Req>({
    // Without a Prometheus exporter the handle has no metricsHandler: nothing is meant to be scraped.
    source:
      source === undefined
        ? liveExposition(where)
        : handler !== undefined && metrics !== undefined
          ? expositionOf(metrics)
          : undefined,
    auth: options.auth,
    where,
    warnWhenOpen: true,
    unavailableReason:
      typeof source === 'function'
        ? `metrics unavailable: ${where} was given a (req, res) handler, which cannot answer a Web Request; pass the initBusinessMetrics handle\n`
        : undefined,
  });
  return {
    serveNode(req, res, raw) {
      const request = nodeScrapeRequest(req);
      const refused = endpoint.refuse(request, raw);
      if (refused) return writeNodeAnswer(res, refused);
      // The handle's own handler: in a cluster worker it asks the primary for the fleet's numbers.
      if (handler !== undefined) return handler(req as IncomingMessage, res);
      void endpoint.answer(request, raw).then((answer) => writeNodeAnswer(res, answer));
    },
    answer(request, raw) {
      return endpoint.answer(requestView(request), raw);
    },
  };
}
