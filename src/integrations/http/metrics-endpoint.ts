/**
 * `/metrics` on the application's own server, for every adapter: the one scrape path
 * (`exporters/prometheus/scrape-endpoint.ts`) fed from the `initBusinessMetrics` handle, answering Node and Web
 * requests.
 *
 * Owns: which exposition a handle serves (none without a Prometheus exporter: 503 with the reason), and serving a
 * bare `(req, res)` handler behind the same gate. Must not touch: the checks, negotiation and answers (the scrape
 * path's), frameworks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  nodeScrapeRequest,
  scrapeEndpoint,
  writeNodeAnswer,
  type ScrapeAnswer,
  type ScrapeAuth,
} from '../../exporters/prometheus/scrape-endpoint';
import type { ExpositionFormat } from '../../exporters/prometheus/serializer';
import { requestView, type RequestLike, type WebRequestLike } from './request';

/** The core's `telemetry.metricsHandler` signature. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

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
  /** Answer on a Node response (Express, Fastify's `reply.raw`, NestJS). */
  serveNode(req: RequestLike, res: ServerResponse, raw: Req): void;
  /** The answer to a Web `Request` (Hono, Next.js). */
  answerWeb(request: WebRequestLike, raw: Req): Promise<ScrapeAnswer>;
}

/**
 * Build an endpoint. `where` names the adapter's function in messages (`metricsMiddleware`).
 * @throws TypeError for credentials that could never match (see `scraperAuth`).
 */
export function metricsEndpoint<Req>(
  source: MetricsSource,
  options: MetricsEndpointOptions<Req>,
  where: string,
): MetricsEndpoint<Req> {
  const handler = typeof source === 'function' ? source : source.metricsHandler;
  const metrics = typeof source === 'function' ? undefined : source.metrics;
  const endpoint = scrapeEndpoint<Req>({
    // Without a Prometheus exporter the handle has no metricsHandler: nothing is meant to be scraped.
    source:
      handler !== undefined && metrics !== undefined ? (format) => metrics.getMetrics(format) : undefined,
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
    answerWeb(request, raw) {
      return endpoint.answer(requestView(request), raw);
    },
  };
}
