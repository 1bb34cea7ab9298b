/**
 * src/exporters/otlp-wire/exporter.ts: the package's OTLP/HTTP exporter is the official export delegate with the
 * package's encoders. Temporality and aggregation are chosen exactly as the upstream exporters
 * (@opentelemetry/exporter-metrics-otlp-http 0.223) choose them for the same preference, for every instrument
 * type; what reaches a real receiver is the package's encoding of the collection, byte for byte, with the
 * format's content type, the caller's headers and the official User-Agent; a refused connection is a failed
 * export with its error, and the delegate's forceFlush and shutdown are what the exporter's do. The gRPC exporter
 * (the official gRPC transport, loaded from the optional package as src/exporters/otlp-grpc.ts loads it) delivers
 * the package encoding byte for byte too, small requests and large ones (those it hands over as their own
 * ArrayBuffer, saving the transport's copy), plain and gzip. (Init's gRPC path: tests/exporters/otlp-grpc.test.ts.)
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { exportCause } from '../../../src/exporters/otlp';
import { loadGrpcStack } from '../../../src/exporters/otlp-grpc';
import {
  createGrpcExporter,
  createHttpExporter,
  type HttpExporterConfig,
} from '../../../src/exporters/otlp-wire/exporter';
import { encodeJsonRequest } from '../../../src/exporters/otlp-wire/json';
import { encodeProtobufRequest } from '../../../src/exporters/otlp-wire/protobuf';
import { TestReader } from '../../support/collect';
import { closedPort, startCapture, startGrpcCapture } from '../otlp-peers';

const config = (url: string, timeoutMillis = 5000): HttpExporterConfig => ({
  url,
  headers: { 'x-tenant': 'shop' },
  compression: 'none',
  timeoutMillis,
});

/** A collection of an SDK provider: a counter and a histogram with attributes (on `routes` routes). */
async function someCollection(routes = 1): Promise<ResourceMetrics> {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('shop');
  meter.createCounter('orders').add(3, { region: 'eu_west' });
  const latency = meter.createHistogram('latency', { unit: 'ms' });
  for (let route = 0; route < routes; route++) latency.record(42 + route, { route: `/checkout/${route}` });
  const collection = await reader.resourceMetrics();
  await provider.shutdown();
  return collection;
}

const exportOnce = (exporter: PushMetricExporter, collection: ResourceMetrics) =>
  new Promise<ExportResult>((resolve) => exporter.export(collection, resolve));

describe('createHttpExporter', () => {
  it.each([
    ['cumulative', AggregationTemporalityPreference.CUMULATIVE],
    ['delta', AggregationTemporalityPreference.DELTA],
  ] as const)(
    '%s: chooses temporality and aggregation as the upstream exporter does',
    async (ours, theirs) => {
      const exporter = createHttpExporter('protobuf', config('http://127.0.0.1:9/v1/metrics'), ours);
      const upstream = new OTLPMetricExporter({
        url: 'http://127.0.0.1:9/v1/metrics',
        temporalityPreference: theirs,
      });
      try {
        const choices = (of: PushMetricExporter) =>
          Object.values(InstrumentType).map((type) => [
            type,
            of.selectAggregationTemporality!(type),
            of.selectAggregation!(type),
          ]);
        expect(choices(exporter)).toEqual(choices(upstream));
        // The comparison is not vacuous: delta keeps up-down counters cumulative, and only delta has DELTA at all.
        const temporalities = new Set(choices(exporter).map(([, temporality]) => temporality));
        expect(temporalities.has(AggregationTemporality.DELTA)).toBe(ours === 'delta');
        expect(temporalities.has(AggregationTemporality.CUMULATIVE)).toBe(true);
      } finally {
        await Promise.all([exporter.shutdown(), upstream.shutdown()]);
      }
    },
  );

  it.each([
    ['protobuf', 'application/x-protobuf', encodeProtobufRequest],
    ['json', 'application/json', encodeJsonRequest],
  ] as const)(
    '%s: sends the package encoding of the collection with its content type and headers',
    async (format, contentType, encode) => {
      const capture = await startCapture();
      const exporter = createHttpExporter(format, config(capture.url), 'cumulative');
      try {
        const collection = await someCollection();
        const result = await exportOnce(exporter, collection);
        expect(result).toEqual({ code: ExportResultCode.SUCCESS });
        expect(capture.captured).toHaveLength(1);
        const [request] = capture.captured;
        expect(request.headers['content-type']).toBe(contentType);
        expect(request.headers['x-tenant']).toBe('shop');
        expect(request.headers['user-agent']).toMatch(/^OTel-OTLP-Exporter-JavaScript\//);
        expect(request.body.equals(Buffer.from(encode(collection)))).toBe(true);
        await exporter.forceFlush();
      } finally {
        await exporter.shutdown();
        await capture.close();
      }
    },
  );

  it('fails the export, with its error, when nothing listens', async () => {
    // A short timeout: the delegate retries a refused connection with backoff until the timeout ends it.
    const url = `http://127.0.0.1:${await closedPort()}/v1/metrics`;
    const exporter = createHttpExporter('json', config(url, 300), 'delta');
    try {
      const result = await exportOnce(exporter, await someCollection());
      expect(result.code).toBe(ExportResultCode.FAILED);
      // The refusal is in the error or its causes (the transport wraps it).
      expect(exportCause(result.error)).toMatch(/ECONNREFUSED/);
    } finally {
      await exporter.shutdown();
    }
  });
});

describe('createGrpcExporter', () => {
  it.each([
    ['a small request', 1, 'none'],
    ['a large request', 400, 'none'],
    ['a large request, gzip', 400, 'gzip'],
  ] as const)('%s: delivers the package encoding byte for byte', async (_, routes, compression) => {
    const receiver = await startGrpcCapture();
    const { exporterBase, grpc } = loadGrpcStack();
    const metadata = new grpc.Metadata();
    metadata.set('x-tenant', 'shop');
    const exporter = createGrpcExporter(
      exporterBase,
      { url: receiver.url, compression, timeoutMillis: 5000, metadata },
      'cumulative',
    );
    try {
      const collection = await someCollection(routes);
      const encoded = encodeProtobufRequest(collection);
      // Below half of Node's buffer pool the request is a slice of the pool; above, its own ArrayBuffer.
      expect(encoded.byteLength === encoded.buffer.byteLength).toBe(routes > 1);
      const result = await exportOnce(exporter, collection);
      expect(result).toEqual({ code: ExportResultCode.SUCCESS });
      expect(receiver.captured).toEqual([{ tenant: 'shop', body: Buffer.from(encoded) }]);
    } finally {
      await exporter.shutdown();
      receiver.close();
    }
  });

  it('writes each request into the buffer the last export gave back: consecutive and concurrent exports arrive intact', async () => {
    const receiver = await startGrpcCapture();
    const { exporterBase, grpc } = loadGrpcStack();
    const exporter = createGrpcExporter(
      exporterBase,
      { url: receiver.url, compression: 'none', timeoutMillis: 5000, metadata: new grpc.Metadata() },
      'cumulative',
    );
    try {
      const [a, b, c] = [await someCollection(400), await someCollection(400), await someCollection(300)];
      const [bytesA, bytesB, bytesC] = [a, b, c].map((collection) =>
        Buffer.from(encodeProtobufRequest(collection)),
      );
      // Same size, different bytes (another collection's timestamps): a reused buffer must not leak old bytes.
      expect(bytesA.length).toBe(bytesB.length);
      expect(bytesA.equals(bytesB)).toBe(false);
      for (const collection of [a, b, c, a])
        expect(await exportOnce(exporter, collection)).toEqual({ code: ExportResultCode.SUCCESS });
      // Two in flight at once: the second cannot have the first's buffer.
      const results = await Promise.all([exportOnce(exporter, b), exportOnce(exporter, a)]);
      expect(results).toEqual([{ code: ExportResultCode.SUCCESS }, { code: ExportResultCode.SUCCESS }]);
      const bodies = receiver.captured.map((call) => call.body);
      expect(bodies.slice(0, 4)).toEqual([bytesA, bytesB, bytesC, bytesA]);
      // The two concurrent calls may complete in either order.
      expect(bodies.slice(4).sort(Buffer.compare)).toEqual([bytesA, bytesB].sort(Buffer.compare));
    } finally {
      await exporter.shutdown();
      receiver.close();
    }
  });
});
