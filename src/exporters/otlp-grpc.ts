/**
 * The optional gRPC stack (`@opentelemetry/exporter-metrics-otlp-grpc` with `@grpc/grpc-js`), loaded only when the
 * grpc protocol is asked for, so an app that never uses it neither needs it installed nor pays its load time. Of
 * that package only its transport is loaded (`@opentelemetry/otlp-grpc-exporter-base` and grpc-js, resolved
 * from its folder, where its own require() finds them): the encoding is the package's own (otlp-wire/), so the
 * exporter class and the upstream transformer it imports are never loaded.
 *
 * Owns: which optional packages the gRPC path needs and how they are found (loaded through src/support). Must not touch: configuration
 * precedence (config/options.ts decides what happens when it is absent), exporter wiring (otlp.ts).
 */
import type { Socket } from 'node:net';
import type { GrpcExporterBase } from './otlp-wire/exporter';
import { loadOptionalPeer, optionalPeerInstalled, resolveOptionalPeer } from '../support';

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
  ChannelCredentials: abstract new () => GrpcChannelCredentials;
}
export const GRPC_EXPORTER_PACKAGE = '@opentelemetry/exporter-metrics-otlp-grpc';

const GRPC_PEER = {
  name: GRPC_EXPORTER_PACKAGE,
  neededBy: "otlp.protocol 'grpc'",
  install: `${GRPC_EXPORTER_PACKAGE}@~0.223.0`,
  alternative: "use otlp.protocol 'http/protobuf' (the OTLP default, port 4318)",
};

/** A dependency of the gRPC exporter, found from `from` as that package's own require() finds it: missing, it is
 * the exporter's install that is broken, so the advice is to reinstall the exporter. */
function dependencyOfGrpcExporter(name: string, from: string) {
  return { ...GRPC_PEER, name, neededBy: `${GRPC_EXPORTER_PACKAGE} (otlp.protocol 'grpc')`, paths: [from] };
}

/** Whether the optional package (and the gRPC library it needs) can be resolved, without loading either. */
export function grpcExporterAvailable(): boolean {
  if (!optionalPeerInstalled(GRPC_PEER)) return false;
  const exporterPath = resolveOptionalPeer(GRPC_PEER);
  return optionalPeerInstalled(dependencyOfGrpcExporter('@grpc/grpc-js', exporterPath));
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
 * The channel credentials the official transport chose (insecure for http://, TLS for https://, with the
 * certificates and client key of OTEL_EXPORTER_OTLP_*CERTIFICATE/CLIENT_* when set), handing every new connection's
 * socket to `registry`. grpc-js does not destroy a connection still waiting for the server's HTTP/2 or TLS
 * handshake when its client closes (measured: a stopped Collector kept the process alive for minutes after
 * shutdown). Extending ChannelCredentials, whose abstract members grpc-js declares for this, is the only hook onto
 * those sockets. Returns undefined (use `inner` as it is, without the hook) if grpc-js changes that shape.
 */
export function closableCredentials(
  grpc: GrpcJs,
  inner: GrpcChannelCredentials,
  registry: SocketRegistry,
): GrpcChannelCredentials | undefined {
  const source = inner as ConnectorSource;
  if (typeof source._createSecureConnector !== 'function') return undefined;
  const createConnector = source._createSecureConnector.bind(inner);
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

/**
 * Loads the exporter package's transport and the grpc-js it uses (Metadata for headers, credentials).
 * @throws OptionalPeerError when one is missing, or installed and failing to load (the cause kept).
 */
export function loadGrpcStack(): GrpcStack {
  const exporterPath = resolveOptionalPeer(GRPC_PEER);
  const base = dependencyOfGrpcExporter('@opentelemetry/otlp-grpc-exporter-base', exporterPath);
  const exporterBase = loadOptionalPeer<GrpcExporterBase>(base);
  // grpc-js as the transport requires it, so Metadata and credentials are of the very copy it uses.
  const grpc = loadOptionalPeer<GrpcJs>(dependencyOfGrpcExporter('@grpc/grpc-js', resolveOptionalPeer(base)));
  return { exporterBase, grpc };
}
