/**
 * The optional gRPC stack (`@opentelemetry/exporter-metrics-otlp-grpc` with `@grpc/grpc-js`), loaded only when the
 * grpc protocol is asked for, so an app that never uses it neither needs it installed nor pays its load time. Of
 * that package only its transport is loaded (`@opentelemetry/otlp-grpc-exporter-base` and grpc-js, resolved
 * from its folder, where its own require() finds them): the encoding is the package's own (otlp-wire/), so the
 * exporter class and the upstream transformer it imports are never loaded.
 *
 * Owns: finding and loading the optional package, the message when it is absent. Must not touch: configuration
 * precedence (config/options.ts decides what happens when it is absent), exporter wiring (otlp.ts).
 */
import type { Socket } from 'node:net';
import type { GrpcExporterBase } from './otlp-wire/exporter';

// Structural types, not `import type` from the optional packages: our published .d.ts must not reference a
// package the app may not have.
/** grpc-js Metadata, as far as we use it (headers). */
export interface GrpcMetadata {
  set(key: string, value: string): void;
}
/** grpc-js ChannelCredentials, as far as we use it. */
export interface GrpcChannelCredentials {
  _isSecure(): boolean;
}
interface ConnectorSource extends GrpcChannelCredentials {
  _createSecureConnector?: (...args: unknown[]) => GrpcSecureConnector;
}
interface GrpcSecureConnector {
  connect(socket: Socket): Promise<unknown>;
  waitForReady(): Promise<void>;
  getCallCredentials(): unknown;
  destroy(): void;
}
interface GrpcJs {
  Metadata: new () => GrpcMetadata;
  ChannelCredentials: (abstract new () => GrpcChannelCredentials) & {
    createInsecure(): GrpcChannelCredentials;
    createSsl(): GrpcChannelCredentials;
  };
}
export const GRPC_EXPORTER_PACKAGE = '@opentelemetry/exporter-metrics-otlp-grpc';

/** Thrown when grpc is asked for in code and the optional package is not installed. */
export class GrpcExporterMissingError extends Error {
  constructor(cause: unknown) {
    super(
      `otel-business-metrics: otlp.protocol 'grpc' needs the optional package ${GRPC_EXPORTER_PACKAGE} ` +
        `(npm install ${GRPC_EXPORTER_PACKAGE}@0.223), which could not be loaded: ` +
        `${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}. ` +
        "Or use protocol 'http/protobuf' (the OTLP default, port 4318).",
    );
    this.name = 'GrpcExporterMissingError';
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

/** Whether the optional package (and the gRPC library it needs) can be resolved, without loading either. */
export function grpcExporterAvailable(): boolean {
  try {
    const exporterPath = require.resolve(GRPC_EXPORTER_PACKAGE);
    // @grpc/grpc-js is resolved from the exporter's side, where its own require() will look.
    require.resolve('@grpc/grpc-js', { paths: [exporterPath] });
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

export interface GrpcStack {
  /** The official gRPC transport (`@opentelemetry/otlp-grpc-exporter-base`). */
  exporterBase: GrpcExporterBase;
  grpc: GrpcJs;
}

/** Sockets of gRPC channels, so they can be destroyed at the shutdown deadline. */
export interface SocketRegistry {
  readonly closed: boolean;
  track(socket: Socket): void;
}

/**
 * Channel credentials (insecure for http://, default TLS for https://) that hand every new connection's socket to
 * `registry`. grpc-js does not destroy a connection still waiting for the server's HTTP/2 handshake when its
 * client closes (measured: a stopped Collector kept the process alive for minutes after shutdown). Extending
 * ChannelCredentials, whose abstract members grpc-js declares for this, is the only hook onto those sockets.
 * Returns undefined (the exporter's own credentials, without the hook) if grpc-js changes that shape, or when TLS
 * settings come from OTEL_EXPORTER_OTLP_*CERTIFICATE/CLIENT_KEY, which only the exporter reads.
 */
export function closableCredentials(
  grpc: GrpcJs,
  secure: boolean,
  registry: SocketRegistry,
  env: Readonly<Record<string, string | undefined>> = process.env,
): GrpcChannelCredentials | undefined {
  if (
    secure &&
    Object.keys(env).some((name) => /^OTEL_EXPORTER_OTLP_(METRICS_)?(CERTIFICATE|CLIENT_)/.test(name))
  ) {
    return undefined;
  }
  const inner: ConnectorSource = secure
    ? grpc.ChannelCredentials.createSsl()
    : grpc.ChannelCredentials.createInsecure();
  if (typeof inner._createSecureConnector !== 'function') return undefined;
  const createConnector = inner._createSecureConnector.bind(inner);
  class ClosableChannelCredentials extends grpc.ChannelCredentials {
    override _isSecure(): boolean {
      return inner._isSecure();
    }
    _equals(other: unknown): boolean {
      return other === this;
    }
    _createSecureConnector(...args: unknown[]): GrpcSecureConnector {
      const connector = createConnector(...args);
      return {
        connect(socket: Socket) {
          registry.track(socket);
          return connector.connect(socket);
        },
        waitForReady: () => connector.waitForReady(),
        getCallCredentials: () => connector.getCallCredentials(),
        destroy: () => connector.destroy(),
      };
    }
  }
  return new ClosableChannelCredentials();
}

/** Loads the exporter package's transport and the grpc-js it uses (Metadata for headers, credentials); throws
 * GrpcExporterMissingError when absent. */
export function loadGrpcStack(): GrpcStack {
  try {
    const exporterPath = require.resolve(GRPC_EXPORTER_PACKAGE);
    const basePath = require.resolve('@opentelemetry/otlp-grpc-exporter-base', { paths: [exporterPath] });
    const exporterBase = require(basePath) as GrpcExporterBase;
    // grpc-js as the transport requires it, so Metadata and credentials are of the very copy it uses.
    const grpc = require(require.resolve('@grpc/grpc-js', { paths: [basePath] })) as GrpcJs;
    return { exporterBase, grpc };
  } catch (error) {
    if (isMissing(error)) throw new GrpcExporterMissingError(error);
    throw error;
  }
}
