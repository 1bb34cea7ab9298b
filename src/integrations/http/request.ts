/**
 * The one small interface the core reads requests through, for Node requests (`IncomingMessage`, Express,
 * Fastify, NestJS on either platform) and Web `Request`s (Hono, Next.js route handlers) alike.
 *
 * Owns: telling the two shapes apart and reading a header, the method and the request target from either.
 * Must not touch: what any header means (session-context, scrape and beacon code decide that), frameworks.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ScrapeRequest } from '../../exporters/prometheus/scrape-endpoint';

/** A Node-style request: Node's `IncomingMessage`, or Express's and Fastify's requests built on it. */
export interface RequestLike {
  readonly method?: string;
  readonly headers: IncomingHttpHeaders;
  readonly url?: string;
  /** Express keeps the full URL here when a router is mounted on a sub-path. */
  readonly originalUrl?: string;
  readonly socket?: { readonly localAddress?: string } | null;
}

/** A Web `Request`, or anything with its `headers.get` and `url`. */
export interface WebRequestLike {
  readonly method?: string;
  /** Absolute, as a Web `Request` carries it. */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

/** Either request shape. */
export type AnyRequest = RequestLike | WebRequestLike;

/** What the core reads of a request. */
export interface RequestView extends ScrapeRequest {
  /** The request target: path and query of a Node request, the absolute URL of a Web one. */
  readonly url: string | undefined;
}

function isWeb(req: AnyRequest): req is WebRequestLike {
  return typeof (req.headers as { get?: unknown }).get === 'function';
}

/** A view of either request shape. A Node header sent several times reads as its values joined with `, `. */
export function requestView(req: AnyRequest): RequestView {
  if (isWeb(req)) {
    return {
      method: req.method ?? 'GET',
      url: req.url,
      header: (name) => req.headers.get(name) ?? undefined,
    };
  }
  const headers = req.headers;
  return {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url,
    header(name) {
      const value = headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    localAddress: req.socket?.localAddress,
  };
}
