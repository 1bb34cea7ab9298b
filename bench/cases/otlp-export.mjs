/**
 * One OTLP export of N histogram series (8 buckets) per protocol: CPU time of the exporting process per export and
 * bytes on the wire, the package vs the raw SDK with the same official exporter (PeriodicExportingMetricReader +
 * the 0.223 exporter of that protocol), both forced with forceFlush.
 *
 * A third variant, `transport`, is the floor no encoder can go below: the package's exporter (the official transport
 * with the package's serializer) handed one collection of the same N series again and again, its serializer
 * memoised, so a round is the transport's work on ready bytes (in the form the package hands them over) and
 * nothing else: no collection, no encoding.
 *
 * Owns: building the same N series in each variant, a sink in a separate process (so its decoding is not charged
 * to the exporter), the self-check that every export arrived with a body, and the memory one export allocates
 * (reported beside the self-check). Must not touch: rounds, statistics.
 * A round returns CPU milliseconds per export (process.cpuUsage of this process only).
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST, expectTotals, loadPackage, require } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const pkg = loadPackage();
const { BUSINESS_METRICS: M } = pkg;
const TIERS = ['free', 'pro', 'enterprise', 'team'];
const SINK = fileURLToPath(new URL('../lib/otlp-wire-sink.mjs', import.meta.url));

/** Heap and array-buffer bytes in use (a body being sent is an array buffer). */
function memory() {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function labelsFor(series) {
  return Array.from({ length: series }, (_, i) => [TIERS[i % 4], `/page/${Math.floor(i / 4)}`]);
}
const observation = (i) => [5, 45, 700, 4000][i % 4];

/** The sink process: answers OTLP over HTTP (any content type) and gRPC, and reports bytes per request. */
async function startSink() {
  const child = fork(SINK, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const received = [];
  const ports = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (message) => {
      if (message.type === 'ports') resolve(message);
      else if (message.type === 'request') received.push(message.bytes);
    });
  });
  return { ...ports, received, close: () => child.kill() };
}

function urlFor(protocol, sink) {
  return protocol === 'grpc' ? `http://127.0.0.1:${sink.grpc}` : `http://127.0.0.1:${sink.http}/v1/metrics`;
}

/** An SDK MeterProvider with `reader` and the N histogram series recorded (the raw SDK's side of the row). */
function sdkWithSeries(sdk, reader, labels) {
  const provider = new sdk.MeterProvider({
    readers: [reader],
    views: pkg
      .businessMetricViews()
      .map((view) => ({ ...view, aggregationCardinalityLimit: labels.length + 10 })),
  });
  const histogram = provider.getMeter('bench').createHistogram(M.sessionDuration.name, { unit: 's' });
  labels.forEach(([userTier, entryPage], i) =>
    histogram.record(observation(i), { user_tier: userTier, entry_page: entryPage }),
  );
  return provider;
}

/** One collection of N histogram series by an SDK reader (the `transport` variant's request). */
async function sdkCollection(labels) {
  const sdk = require('@opentelemetry/sdk-metrics');
  class OnceReader extends sdk.MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new OnceReader();
  const provider = sdkWithSeries(sdk, reader, labels);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

const VARIANTS = {
  async ours(protocol, labels, sink) {
    const telemetry = pkg.initBusinessMetrics({
      exporters: ['otlp'],
      otlp: {
        protocol,
        url: urlFor(protocol, sink),
        exportIntervalMillis: 3_600_000,
        exportTimeoutMillis: 60_000,
      },
      serviceName: 'bench',
      env: {},
      limits: {
        maxSeriesPerMetric: labels.length + 10,
        labels: {
          user_tier: { kind: 'allow', values: TIERS },
          entry_page: { kind: 'capped', maxValues: labels.length },
        },
      },
    });
    const start = Date.now();
    labels.forEach(([userTier, entryPage], i) =>
      telemetry.metrics.recordSessionEnd(start - observation(i) * 1000, { userTier, entryPage }),
    );
    return {
      flush: () => telemetry.forceFlush({ timeoutMillis: 60_000 }),
      close: () => telemetry.shutdown({ timeoutMillis: 5000 }),
    };
  },

  async 'raw-sdk'(protocol, labels, sink) {
    const sdk = require('@opentelemetry/sdk-metrics');
    const packages = {
      'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
      'http/json': '@opentelemetry/exporter-metrics-otlp-http',
      grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
    };
    const { OTLPMetricExporter } = require(packages[protocol]);
    const reader = new sdk.PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: urlFor(protocol, sink), timeoutMillis: 60_000 }),
      exportIntervalMillis: 3_600_000,
      exportTimeoutMillis: 60_000,
    });
    const provider = sdkWithSeries(sdk, reader, labels);
    return { flush: () => provider.forceFlush(), close: () => provider.shutdown() };
  },

  async transport(protocol, labels, sink) {
    const wireDir = join(dirname(DIST), 'exporters', 'otlp-wire');
    const wire = require(join(wireDir, 'index.js'));
    const { createGrpcExporter, createHttpExporter } = require(join(wireDir, 'exporter.js'));
    // The serializer the exporter is given, memoised: the first export encodes, every later one hands the
    // transport those same bytes (this process measures nothing else).
    const memoised = (serializer) => {
      const encode = serializer.serializeRequest.bind(serializer);
      let encoded;
      return { ...serializer, serializeRequest: (request) => (encoded ??= encode(request)) };
    };
    const config = { url: urlFor(protocol, sink), compression: 'none', timeoutMillis: 60_000 };
    let exporter;
    if (protocol === 'grpc') {
      // The transport and grpc-js as the package loads them (src/exporters/otlp-grpc.ts).
      const { exporterBase, grpc } = require(
        join(dirname(DIST), 'exporters', 'otlp-grpc.js'),
      ).loadGrpcStack();
      const base = {
        ...exporterBase,
        createOtlpGrpcExportDelegate: (options, serializer, ...rest) =>
          exporterBase.createOtlpGrpcExportDelegate(options, memoised(serializer), ...rest),
      };
      exporter = createGrpcExporter(base, { ...config, metadata: new grpc.Metadata() }, 'cumulative');
    } else {
      // createHttpExporter takes its serializer from the module: memoised there, in this process only.
      const format = protocol === 'http/json' ? 'json' : 'protobuf';
      const name = format === 'json' ? 'jsonSerializer' : 'protobufSerializer';
      const { serializeRequest } = memoised(wire[name]);
      wire[name].serializeRequest = serializeRequest;
      exporter = createHttpExporter(format, { ...config, headers: {} }, 'cumulative');
    }
    const collection = await sdkCollection(labels);
    const exportOnce = () =>
      new Promise((resolve, reject) =>
        exporter.export(collection, (result) => (result.code === 0 ? resolve() : reject(result.error))),
      );
    return { flush: exportOnce, close: () => exporter.shutdown() };
  },
};

serveCase(async ({ variant, protocol, series }) => {
  const sink = await startSink();
  const target = await VARIANTS[variant](protocol, labelsFor(series), sink);
  let exports = 0;
  return {
    async round(n) {
      const before = process.cpuUsage();
      for (let i = 0; i < n; i++) await target.flush();
      const used = process.cpuUsage(before);
      exports += n;
      return (used.user + used.system) / 1000 / n;
    },
    async check() {
      // Memory per export: what the heap and array buffers grow by across one export started right after a full
      // GC (the case runs with a young generation larger than an export's garbage, so none is collected midway).
      const grown = [];
      for (let i = 0; i < 3; i++) {
        globalThis.gc();
        const before = memory();
        await target.flush();
        grown.push(memory() - before);
        exports++;
      }
      grown.sort((a, b) => a - b);
      // The sink reports asynchronously: give the last report a moment to arrive.
      for (let i = 0; i < 50 && sink.received.length < exports; i++)
        await new Promise((r) => setTimeout(r, 20));
      const bodies = sink.received.filter((bytes) => bytes > series * 10);
      const result = expectTotals([['full bodies', bodies.length, exports]]);
      const mean = bodies.reduce((a, b) => a + b, 0) / Math.max(1, bodies.length);
      return {
        ...result,
        memoryPerExport: grown[1],
        detail:
          `${result.detail}; per export ${Math.round(mean)} B on the wire, ` +
          `${(grown[1] / 2 ** 20).toFixed(1)} MiB allocated`,
      };
    },
    async close() {
      await target.close();
      sink.close();
    },
  };
});
