/**
 * A real OTLP/HTTP receiver on 127.0.0.1 (free port) that decodes what the real OTLP exporter sends (JSON,
 * optionally gzip) and keeps every request. Faults can be switched on to test exporter failure handling.
 *
 * Strict as a Collector's OTLP/HTTP receiver is, so an exporter sending to the wrong place or in the wrong form
 * fails the test instead of being accepted: only `POST /v1/metrics` with `Content-Type: application/json` is
 * received; another path is 404, another method 405 (with `Allow: POST`), another content type 415.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
export interface OtlpNumberPoint {
  attributes: OtlpAttribute[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: string | number;
}
export interface OtlpHistogramPoint {
  attributes: OtlpAttribute[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string | number;
  sum?: number;
  bucketCounts: Array<string | number>;
  explicitBounds: number[];
  min?: number;
  max?: number;
}
export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  sum?: { dataPoints: OtlpNumberPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  gauge?: { dataPoints: OtlpNumberPoint[] };
  histogram?: { dataPoints: OtlpHistogramPoint[]; aggregationTemporality: number };
}
export interface OtlpRequest {
  resourceMetrics: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeMetrics: Array<{ scope: { name: string; version?: string }; metrics: OtlpMetric[] }>;
  }>;
}
export interface ReceivedRequest {
  headers: IncomingMessage['headers'];
  gzip: boolean;
  body: OtlpRequest;
}

/** What the receiver does with the next requests. */
export type ReceiverFault =
  | { kind: 'none' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'hang' }
  | { kind: 'slow'; delayMillis: number }
  | { kind: 'reset' };

export interface OtlpReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Requests that arrived while a fault was active (answered with the fault, not recorded as received). */
  faultedRequests: number;
  /** Requests refused for their path, method or content type (404/405/415), with what was wrong. */
  readonly rejected: string[];
  /** Every export request that reached the receiver (received or faulted): proof that an export was attempted. */
  readonly attempts: number;
  setFault(fault: ReceiverFault): void;
  /** Resolves once `predicate` holds for the received requests (polling), or rejects after `timeoutMillis`. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMillis?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  let fault: ReceiverFault = { kind: 'none' };
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const state = { faultedRequests: 0 };
  const rejected: string[] = [];

  const server: Server = createServer((req, res) => {
    const refusal = refuse(req);
    if (refusal) {
      rejected.push(`${req.method} ${req.url} (${req.headers['content-type'] ?? 'no content type'})`);
      res.writeHead(refusal.status, refusal.headers);
      res.end(refusal.message);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const active = fault;
      if (active.kind !== 'none') state.faultedRequests++;
      switch (active.kind) {
        case 'status':
          res.writeHead(
            active.status,
            active.retryAfterSeconds ? { 'retry-after': String(active.retryAfterSeconds) } : {},
          );
          res.end('{}');
          return;
        case 'hang':
          hanging.add(res);
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'slow':
          setTimeout(() => accept(req, Buffer.concat(chunks), res), active.delayMillis);
          return;
        default:
          accept(req, Buffer.concat(chunks), res);
      }
    });
  });
  const accept = (req: IncomingMessage, raw: Buffer, res: ServerResponse) => {
    const gzip = req.headers['content-encoding'] === 'gzip';
    try {
      const body = JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8')) as OtlpRequest;
      requests.push({ headers: req.headers, gzip, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } catch (error) {
      res.writeHead(400);
      res.end(String(error));
    }
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${actualPort}/v1/metrics`,
    port: actualPort,
    requests,
    rejected,
    get attempts() {
      return requests.length + state.faultedRequests;
    },
    get faultedRequests() {
      return state.faultedRequests;
    },
    set faultedRequests(value: number) {
      state.faultedRequests = value;
    },
    setFault(next) {
      fault = next;
      if (next.kind !== 'hang') {
        for (const res of hanging) res.destroy();
        hanging.clear();
      }
    },
    async waitFor(predicate, timeoutMillis = 10000) {
      const deadline = Date.now() + timeoutMillis;
      while (!predicate(requests)) {
        if (Date.now() > deadline)
          throw new Error(`OTLP receiver: condition not met within ${timeoutMillis} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Why a request is not an OTLP/HTTP JSON metrics export, as a Collector would answer it; undefined if it is. */
function refuse(
  req: IncomingMessage,
): { status: number; headers: Record<string, string>; message: string } | undefined {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/v1/metrics') return { status: 404, headers: {}, message: `no OTLP endpoint at ${path}` };
  if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST' }, message: 'OTLP takes POST' };
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json')
    return { status: 415, headers: {}, message: `unsupported content type ${JSON.stringify(mediaType)}` };
  return undefined;
}

/** Flattens OTLP attributes to a plain object of strings. */
export function attributesOf(attributes: OtlpAttribute[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const { key, value } of attributes ?? []) {
    result[key] = String(value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue);
  }
  return result;
}

/** Every metric across all requests, in arrival order. */
export function metricsOf(requests: ReceivedRequest[]): OtlpMetric[] {
  return requests.flatMap((request) =>
    request.body.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)),
  );
}
