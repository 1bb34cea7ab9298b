/**
 * In-process tracing for the demo shop: the OpenTelemetry trace SDK records a span per HTTP request, so every
 * business method called while handling a request runs inside a sampled span and the package keeps real
 * exemplars (trace ids on the time-to-conversion buckets, the conversion and revenue counters).
 *
 * Owns: the global context manager and tracer provider of the shop process, the bounded in-memory store of
 * finished spans (no external backend: the dashboard links a point's trace id to `/traces/<id>`), and the
 * request-span middleware. Must not touch: metrics (the package reads the active span by itself).
 */
import { context, trace, SpanKind, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RequestHandler } from 'express';

/** Paths without a span (case-insensitive, as Express routes). */
const UNTRACED = /^\/(api|assets|metrics|healthz)(\/|$)/i;

/** A finished span as the shop shows it. */
export interface StoredSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/**
 * Keeps the most recent finished spans in a fixed ring (memory stays bounded however long the shop runs and
 * whatever traffic it gets; the oldest span is overwritten in place, no array shifting per span).
 */
export class RecentSpans implements SpanProcessor {
  private readonly ring: (StoredSpan | undefined)[];
  private next = 0;
  constructor(private readonly capacity = 1000) {
    this.ring = new Array<StoredSpan | undefined>(capacity).fill(undefined);
  }
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    const [seconds, nanos] = span.startTime;
    const [durationSeconds, durationNanos] = span.duration;
    this.ring[this.next] = {
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      name: span.name,
      startMs: seconds * 1000 + nanos / 1e6,
      durationMs: durationSeconds * 1000 + durationNanos / 1e6,
      attributes: span.attributes,
    };
    this.next = (this.next + 1) % this.capacity;
  }
  /** The spans of one trace still in the ring, oldest first. */
  trace(traceId: string): StoredSpan[] {
    return this.ring
      .filter((span): span is StoredSpan => span !== undefined && span.traceId === traceId)
      .sort((a, b) => a.startMs - b.startMs);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** The shop's tracing: its tracer, its span store, and how to undo the global registration. */
export interface ShopTracing {
  readonly tracer: Tracer;
  readonly spans: RecentSpans;
  stop(): Promise<void>;
}

/**
 * Registers the AsyncLocalStorage context manager and a tracer provider (sampling every trace) as the process's
 * globals. Call before `initBusinessMetrics`, as an app would start its tracing SDK first.
 */
export function startShopTracing(): ShopTracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const spans = new RecentSpans();
  const provider = new BasicTracerProvider({ spanProcessors: [spans] });
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('demo-shop'),
    spans,
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/**
 * One server span per request; the rest of the request (handlers, business methods) runs inside it. Uses the
 * global tracer, so without `startShopTracing` it costs nothing and records nothing.
 */
export function requestSpans(): RequestHandler {
  const tracer = trace.getTracer('demo-shop');
  return (req, res, next) => {
    // Pages and checkout only: the engagement beacons, assets and scrapes are the bulk of the requests and
    // carry no conversion or revenue, so their spans would only churn memory.
    if (UNTRACED.test(req.path)) return next();
    tracer.startActiveSpan(
      `${req.method} ${req.path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
      (span) => {
        let ended = false;
        // 'close' follows 'finish', and comes alone when the client went away: end the span once.
        const end = () => {
          if (ended) return;
          ended = true;
          span.setAttribute('http.response.status_code', res.statusCode);
          span.end();
        };
        res.once('finish', end);
        res.once('close', end);
        next();
      },
    );
  };
}
