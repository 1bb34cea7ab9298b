/**
 * The OTLP push path: one exporter per protocol (`http/protobuf`, the spec's default; `http/json`; `grpc`, loaded
 * on demand from an optional package), each the official OTLP transport of the 0.223 line with the package's own
 * encoding (otlp-wire/), behind a PeriodicExportingMetricReader, wrapped so a failed export is counted in a
 * self-metric and logged at a rate-limited warning, whatever the protocol.
 *
 * Owns: exporter construction from resolved options, failure accounting, closing connections at the shutdown
 * deadline. Must not touch: what is recorded, instruments (the failure self-metric reads the tally here), the
 * guard, configuration precedence (config/options.ts).
 * Failures never reach the app: the SDK retries refused connections and 429/502/503/504 within the export
 * timeout, drops a failed batch, and the next export carries cumulative totals again (with the default
 * cumulative temporality nothing is lost; with delta the failed interval is lost, as with any delta exporter).
 * Must not import: `src/metrics/`, `src/guard/`, `src/active-users/`, `src/money/`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { Socket } from 'node:net';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { diag, RateLimitedWarnings, safeMessage } from '../support';
import type { ResolvedConfig } from '../config/options';
import {
  closableCredentials,
  loadGrpcStack,
  type GrpcChannelCredentials,
  type SocketRegistry,
} from './otlp-grpc';
import type * as OtlpWireExporter from './otlp-wire/exporter';

/**
 * HTTP agents for the exporter that can be closed at the shutdown deadline: in-flight requests are destroyed
 * and later attempts fail at once, both with an error the exporter does not retry. Without this, a collector
 * that accepts connections but never answers keeps the host process alive for the whole export timeout after
 * shutdown() has returned.
 */
export class ClosableAgents implements SocketRegistry {
  private readonly agents: http.Agent[] = [];
  private readonly sockets = new Set<Socket>();
  closed = false;

  /** A gRPC channel's socket (see closableCredentials): destroyed by close(), at once if already closed. */
  track(socket: Socket): void {
    if (this.closed) {
      process.nextTick(() => socket.destroy(closedError()));
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  readonly factory = (protocol: string): http.Agent => {
    const agent =
      protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    const connect = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket;
    (agent as unknown as { createConnection: (...args: unknown[]) => Socket }).createConnection = (
      ...args
    ) => {
      if (!this.closed) return connect(...args);
      const socket = new Socket();
      process.nextTick(() => socket.destroy(closedError()));
      return socket;
    };
    this.agents.push(agent);
    return agent;
  };

  close(): void {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy(closedError());
    this.sockets.clear();
    for (const agent of this.agents) {
      for (const pool of [agent.sockets, agent.freeSockets]) {
        for (const sockets of Object.values(pool))
          for (const socket of sockets ?? []) socket.destroy(closedError());
      }
    }
  }
}

function closedError(): Error {
  // Not one of the network error codes the exporter retries, so it gives up instead of scheduling a retry.
  return Object.assign(new Error('otel-business-metrics: exporter closed at the shutdown deadline'), {
    code: 'ERR_EXPORTER_CLOSED',
  });
}

/**
 * The exporter for the resolved protocol: the official OTLP transport with the package's own encoding
 * (otlp-wire/). Over gRPC, headers become metadata and an http:// URL means an insecure channel (the official
 * transport's rule). Throws OptionalPeerError when grpc is asked for and the optional package is missing or
 * broken (config/options.ts has already turned an environment request into http/protobuf).
 */
export function createOtlpExporter(otlp: ResolvedConfig['otlp'], agents: ClosableAgents): PushMetricExporter {
  // Loaded here, when an OTLP exporter is configured: a pull-only app never loads the encoders or the transport.
  const { createGrpcExporter, createHttpExporter } =
    require('./otlp-wire/exporter') as typeof OtlpWireExporter;
  const common = {
    url: otlp.url,
    compression: otlp.compression === 'gzip' ? ('gzip' as const) : ('none' as const),
    timeoutMillis: otlp.exporterTimeoutMillis,
  };
  switch (otlp.protocol) {
    case 'http/json':
      return createHttpExporter(
        'json',
        { ...common, headers: otlp.headers, httpAgentOptions: agents.factory },
        otlp.temporality,
      );
    case 'grpc': {
      const { exporterBase, grpc } = loadGrpcStack();
      const metadata = new grpc.Metadata();
      for (const [key, value] of Object.entries(otlp.headers)) metadata.set(key.toLowerCase(), value);
      return createGrpcExporter(exporterBase, { ...common, metadata }, otlp.temporality, (inner) =>
        closableCredentials(grpc, inner as GrpcChannelCredentials, agents),
      );
    }
    default:
      return createHttpExporter(
        'protobuf',
        { ...common, headers: otlp.headers, httpAgentOptions: agents.factory },
        otlp.temporality,
      );
  }
}

/** Where the warning about export failures says to look, and how to silence it. */
const FAILURE_HINT =
  'counted in business_metrics_export_failures_total; said again at most once a minute; ' +
  'OTEL_LOG_LEVEL=error (or your own diag logger) silences these warnings';

/**
 * The cause of a failed export on one line: the error's message and its cause's (a refused connection's
 * ECONNREFUSED sits in `cause` under the transport's message), with their codes; never a stack.
 */
export function exportCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current !== undefined && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    const text = safeMessage(current, 300);
    const line = `${text}${typeof code === 'string' && !text.includes(code) ? ` (${code})` : ''}`;
    if (!parts.some((part) => part.includes(line))) parts.push(line);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ').slice(0, 300) || 'unknown error';
}

/** An export its exporter had not answered by its timeout (FailureCountingExporter's `deadlineMillis`). */
class ExportDeadlineError extends Error {
  constructor(readonly timeoutMillis: number) {
    super(`no answer within the export timeout of ${timeoutMillis} ms`);
    this.name = 'ExportDeadlineError';
  }
}

/** The failed exports of one exporter while someone waits for them (FailureCountingExporter.watchFailures). */
export interface ExportFailureWatch {
  readonly exporter: FailureCountingExporter;
  /** Each failure's error and its one-line cause, in order. */
  readonly failures: Array<{ readonly error: unknown; readonly cause: string }>;
  stop(): void;
}

/**
 * `the otlp exporter could not export to http://...: <cause>` for each watch that saw a failure (its last cause),
 * joined; undefined when none did.
 */
export function describeFailedExports(watches: readonly ExportFailureWatch[]): string | undefined {
  const failed = watches.filter((watch) => watch.failures.length > 0);
  if (failed.length === 0) return undefined;
  return failed
    .map(({ exporter, failures }) => {
      const where = exporter.destination ? ` to ${exporter.destination}` : '';
      return `the ${exporter.name} exporter could not export${where}: ${failures[failures.length - 1].cause}`;
    })
    .join('; ');
}

/**
 * Delegates to an exporter, and owns what a failed export means to the person running the app: it is counted (a
 * tally the export-failure self-metric reads), reported once through diag at warn level with the exporter, where
 * it sends and the cause on one line (then at most once a minute), and the full error goes to diag at debug level.
 * The reader is told the export is done: its only use of a failure is a diag.error with the whole exception
 * serialised, stack included, on every interval, which this replaces. Whoever asked for an export explicitly
 * (handle.forceFlush, shutdown) watches the exports that start while it waits (watchFailures) and is told.
 */
export class FailureCountingExporter implements PushMetricExporter {
  /** Failed exports so far. */
  failures = 0;
  /** The cause of the last failure, for messages. */
  lastCause = '';
  private inFlight = 0;
  /** Set once shutdown has said how its exports ended (stopWarnings). */
  private warningsStopped = false;
  private readonly warnings = new RateLimitedWarnings();
  private readonly watches = new Set<ExportFailureWatch>();
  // Present exactly when the wrapped exporter has them: the reader treats a missing selector as "use defaults".
  readonly selectAggregationTemporality?: (instrumentType: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (instrumentType: InstrumentType) => AggregationOption;

  constructor(
    private readonly inner: PushMetricExporter,
    /** The `exporter` label of the failure self-metric. */
    readonly name: string,
    /** Where it sends (the OTLP URL), for messages, if known. */
    readonly destination?: string,
    /**
     * The exporter's own timeout for one export, if it has one: an export still unanswered then is a failure,
     * whatever the exporter does later. The official transport overruns it (a retry gets the time that was left
     * before its backoff; over HTTP the timeout is the socket's idle time, which starts after connecting), and the
     * reader's deadline, a margin later (config/options.ts), would otherwise end it uncounted.
     */
    private readonly deadlineMillis?: number,
  ) {
    if (inner.selectAggregationTemporality) {
      this.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
    }
    if (inner.selectAggregation) this.selectAggregation = inner.selectAggregation.bind(inner);
  }

  /** `otlp exporter (http://localhost:4318/v1/metrics)`: how messages name it. */
  get description(): string {
    return this.destination ? `${this.name} exporter (${this.destination})` : `${this.name} exporter`;
  }

  /** True while an export has been handed to the exporter and not answered. */
  get exporting(): boolean {
    return this.inFlight > 0;
  }

  /**
   * Starts collecting the failures of the exports that start from now until `stop()`: what an explicit flush
   * (handle.forceFlush) reports to its caller, while the periodic path stays with the rate-limited warning.
   */
  watchFailures(): ExportFailureWatch {
    const watch: ExportFailureWatch = {
      exporter: this,
      failures: [],
      stop: () => void this.watches.delete(watch),
    };
    this.watches.add(watch);
    return watch;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.inFlight++;
    let answered = false;
    let settled = false;
    const watching = this.watches.size > 0 ? [...this.watches] : undefined;
    const answer = (failure: { error: unknown } | undefined) => {
      if (answered) return;
      answered = true;
      clearTimeout(deadline);
      if (failure) {
        this.recordFailure(failure.error);
        for (const watch of watching ?? [])
          watch.failures.push({ error: failure.error, cause: this.lastCause });
      }
      resultCallback({ code: ExportResultCode.SUCCESS });
    };
    // `exporting` stays true until the exporter itself answers: shutdown still waits for it, and names it.
    const settle = (failure: { error: unknown } | undefined) => {
      if (!settled) {
        settled = true;
        this.inFlight--;
      }
      answer(failure);
    };
    const deadline =
      this.deadlineMillis === undefined
        ? undefined
        : setTimeout(
            () => answer({ error: new ExportDeadlineError(this.deadlineMillis!) }),
            this.deadlineMillis,
          );
    // An export the collector never answers must not hold the process open: the sockets decide that.
    deadline?.unref();
    try {
      this.inner.export(metrics, (result) =>
        settle(result.code === ExportResultCode.SUCCESS ? undefined : { error: result.error }),
      );
    } catch (error) {
      settle({ error });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  /**
   * From now on a failure is counted and goes to diag at debug level only: shutdown has said how the final export
   * ended (or what it still waited for at its deadline), and what the exports closed at that deadline fail with
   * afterwards (`ERR_EXPORTER_CLOSED`) would only say it again.
   */
  stopWarnings(): void {
    this.warningsStopped = true;
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private recordFailure(error: unknown): void {
    const cause = exportCause(error);
    this.lastCause = cause;
    const where = this.destination ? ` to ${this.destination}` : '';
    const text = `otel-business-metrics: the ${this.name} exporter could not export${where}: ${cause}`;
    // The first failure is said in full, with what to do about it; it also starts the minute of silence.
    if (!this.warningsStopped)
      this.warnings.warn('export', this.failures === 0 ? `${text} (${FAILURE_HINT})` : text);
    this.failures++;
    diag.debug(`otel-business-metrics: ${this.description}: export failed`, error);
  }
}
