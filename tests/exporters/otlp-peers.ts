/**
 * Peers for the OTLP exporter tests (tests/exporters/otlp.test.ts, otlp-grpc.test.ts, otlp-wire/exporter.test.ts):
 * an HTTP receiver and a gRPC receiver (grpc-js) that keep what arrives, a TCP server that accepts and never answers, a port nothing listens
 * on, and a fresh Node process running the built package. All on loopback, on free ports; each test closes what
 * it starts.
 *
 * Owns: these peers. Must not touch: assertions.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { OtlpProtocol } from '../../src/config/options';

const DIST = join(__dirname, '../../dist/index.js');
const FIXTURES = join(__dirname, 'fixtures');
/** A self-signed certificate for 127.0.0.1 (a test fixture, its key beside it): trust it to reach the TLS peers. */
export const LOOPBACK_CERTIFICATE = join(FIXTURES, 'loopback-cert.pem');

export interface Captured {
  headers: IncomingHttpHeaders;
  bytes: number;
  /** The request body as it arrived (compressed, when the exporter compresses). */
  body: Buffer;
}

/**
 * An ExportMetricsServiceResponse whose partial success rejected `rejected` data points with `message`: protobuf
 * bytes, or OTLP/JSON (int64 as a string, as the spec's JSON mapping writes it).
 */
export function partialSuccess(rejected: number, message: string, format: 'protobuf' | 'json'): Buffer {
  if (format === 'json')
    return Buffer.from(
      JSON.stringify({ partialSuccess: { rejectedDataPoints: String(rejected), errorMessage: message } }),
    );
  const text = Buffer.from(message);
  // rejected_data_points (1, varint; small here), error_message (2, bytes), inside partial_success (1, bytes).
  const inner = Buffer.concat([Buffer.from([0x08, rejected, 0x12, text.length]), text]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

/**
 * An HTTP server that keeps what arrives and answers 200, with an empty body (a valid OTLP success response) or
 * what `respond` gives for the request's content type.
 */
export async function startCapture(
  respond?: (contentType: string) => Buffer,
): Promise<{ url: string; captured: Captured[]; close(): Promise<void> }> {
  const captured: Captured[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      captured.push({ headers: req.headers, bytes: body.length, body });
      const contentType = String(req.headers['content-type']);
      res.writeHead(200, { 'content-type': contentType }).end(respond?.(contentType));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    captured,
    close: () => {
      server.closeAllConnections(); // the exporters keep connections alive
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CapturedCall {
  /** The x-tenant metadata value, if any. */
  tenant: unknown;
  /** The ExportMetricsServiceRequest as the handler got it (decompressed by grpc-js). */
  body: Buffer;
}

/**
 * A grpc-js server (the grpc-js the optional exporter uses) answering the OTLP metrics Export method: raw bytes in,
 * kept, an empty ExportMetricsServiceResponse out (or `response`). With `tls`, over TLS with the loopback
 * certificate of tests/exporters/fixtures (self-signed, for 127.0.0.1: {@link LOOPBACK_CERTIFICATE}).
 */
export async function startGrpcCapture(
  response: Buffer = Buffer.alloc(0),
  options: { tls?: boolean } = {},
): Promise<{
  url: string;
  captured: CapturedCall[];
  close(): void;
}> {
  const grpc = require(
    require.resolve('@grpc/grpc-js', {
      paths: [require.resolve('@opentelemetry/exporter-metrics-otlp-grpc')],
    }),
  ) as typeof import('@grpc/grpc-js');
  const captured: CapturedCall[] = [];
  const server = new grpc.Server();
  const identity = (value: Buffer) => value;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export(
        call: { request: Buffer; metadata: { get(key: string): unknown[] } },
        callback: (error: null, response: Buffer) => void,
      ) {
        captured.push({ tenant: call.metadata.get('x-tenant')[0], body: call.request });
        callback(null, response);
      },
    },
  );
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [
        {
          cert_chain: readFileSync(LOOPBACK_CERTIFICATE),
          private_key: readFileSync(join(FIXTURES, 'loopback-key.pem')),
        },
      ])
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    captured,
    close: () => server.forceShutdown(),
  };
}

/** A TCP server that accepts every connection and never says a word: a Collector that is stopped or wedged. */
export async function startSilent(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Where an exporter of `protocol` sends to on `port`. */
export function urlFor(protocol: OtlpProtocol, port: number): string {
  return protocol === 'grpc' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/metrics`;
}

export const PROTOCOLS: OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

/**
 * Runs `script` in a fresh Node process against the built package (asynchronously: the servers it talks to live
 * in this process), with `env` added to this process's; resolves with its output and exit status (killed after
 * 30 s: no status).
 */
export function runNode(script: string, args: string[] = [], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['-e', script, DIST, ...args],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, OTEL_METRICS_EXPORTER: '', ...env } },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}
