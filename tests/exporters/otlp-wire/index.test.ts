/**
 * src/exporters/otlp-wire/index.ts: what the official export delegates are handed. Its exact export list (the two
 * encoders re-exported as the very functions of json.ts and protobuf.ts); the serializers pairing each encoder
 * with its response decoder; ExportMetricsServiceResponse decoded as the upstream transformer decodes it (partial
 * success, unknown fields of every wire type skipped, a truncated body refused); and the item count the
 * transport's self-observability reports, every data point of the store's columns and of the SDK's metrics.
 */
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics } from '../../../src';
import * as wire from '../../../src/exporters/otlp-wire';
import * as json from '../../../src/exporters/otlp-wire/json';
import * as protobuf from '../../../src/exporters/otlp-wire/protobuf';
import { storeCollectionOf } from '../../../src/series/collection';
import { exportOrigins } from '../../support/entry-points';
import { OTLP_SCHEMA } from './differential';

const {
  createGrpcSerializer,
  decodeProtobufResponse,
  jsonSerializer,
  metricsExporterMetricsHelper,
  protobufSerializer,
  SpareRequest,
} = wire;
const ResponseType = OTLP_SCHEMA.lookupType('otlp.ExportMetricsServiceResponse');

/** A collection of one counter series of an SDK provider: a request far below Node's pool size. */
async function someSmallCollection() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter })] });
  provider.getMeter('app').createCounter('app_requests').add(1, { route: '/a' });
  await provider.forceFlush();
  await provider.shutdown();
  return exporter.getMetrics().at(-1)!;
}

describe('src/exporters/otlp-wire/index.ts', () => {
  it('exports the encoders of json.ts and protobuf.ts and its own serializers, decoder and item count', () => {
    expect(exportOrigins(wire, { json, protobuf, 'index.ts': wire })).toEqual({
      decodeProtobufResponse: 'index.ts',
      encodeJsonRequest: 'json',
      createGrpcSerializer: 'index.ts',
      encodeProtobufRequest: 'protobuf',
      jsonSerializer: 'index.ts',
      metricsExporterMetricsHelper: 'index.ts',
      protobufSerializer: 'index.ts',
      SpareRequest: 'index.ts',
    });
  });

  it('pairs each encoder with its response decoder', async () => {
    // Each serializer is its encoder, then gives the columns back (the last test below).
    const collection = await someSmallCollection();
    expect(protobufSerializer.serializeRequest(collection)).toEqual(
      protobuf.encodeProtobufRequest(collection),
    );
    expect(protobufSerializer.deserializeResponse).toBe(decodeProtobufResponse);
    expect(jsonSerializer.serializeRequest(collection)).toEqual(json.encodeJsonRequest(collection));
    expect(jsonSerializer.deserializeResponse(new Uint8Array(0))).toEqual({});
    expect(createGrpcSerializer(new SpareRequest()).deserializeResponse).toBe(decodeProtobufResponse);
  });

  it('hands the gRPC transport a large request as its own ArrayBuffer, which Buffer.from views without a copy', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    try {
      for (let page = 0; page < 200; page++)
        handle.metrics.recordSessionEnd(Date.now() - 5000, { userTier: 'pro', entryPage: `/page/${page}` });
      await handle.forceFlush();
      const collection = exporter.getMetrics().at(-1)!;
      const expected = protobuf.encodeProtobufRequest(collection);
      const spare = new SpareRequest();
      const grpcSerializer = createGrpcSerializer(spare);
      const large = grpcSerializer.serializeRequest(collection);
      expect(large).toBeInstanceOf(ArrayBuffer);
      expect(Buffer.from(large as ArrayBuffer).equals(expected)).toBe(true);
      // What the official transport does with it (grpc-exporter-transport.js: `Buffer.from(data)`): a view.
      expect(Buffer.from(large as ArrayBuffer).buffer).toBe(large);
      expect(Buffer.from(expected).buffer).not.toBe(expected.buffer);
      // The buffer written is noted for the exporter to give back; given back, the next request of that size is
      // written into it, and one of another size is not.
      expect(spare.written?.buffer).toBe(large);
      spare.giveBack(spare.written!);
      new Uint8Array(large as ArrayBuffer).fill(0xff);
      const again = grpcSerializer.serializeRequest(collection);
      expect(again).toBe(large);
      expect(Buffer.from(again as ArrayBuffer).equals(expected)).toBe(true);
      expect(spare.take(expected.length)).toBeUndefined(); // taken: no longer kept
      spare.giveBack(Buffer.alloc(expected.length - 1));
      expect(grpcSerializer.serializeRequest(collection)).not.toBe(large);

      // A request below half of Node's buffer pool is a slice of the shared pool: handed over as it is, not kept.
      const small = await someSmallCollection();
      spare.written = undefined;
      const bytes = grpcSerializer.serializeRequest(small);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(bytes as Uint8Array).equals(protobuf.encodeProtobufRequest(small))).toBe(true);
      expect(spare.written).toBeUndefined();
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
    }
  });

  it('decodes an ExportMetricsServiceResponse (partial success) as upstream does', () => {
    for (const body of [
      {},
      { partialSuccess: {} },
      { partialSuccess: { rejectedDataPoints: 7, errorMessage: 'too old: 7 points' } },
      { partialSuccess: { rejectedDataPoints: 2 ** 40, errorMessage: 'ünïcode' } },
    ]) {
      const bytes = ResponseType.encode(ResponseType.fromObject(body)).finish();
      expect(decodeProtobufResponse(bytes)).toEqual(ProtobufMetricsSerializer.deserializeResponse(bytes));
    }
    const json = Buffer.from('{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"x"}}');
    expect(jsonSerializer.deserializeResponse(json)).toEqual(JsonMetricsSerializer.deserializeResponse(json));
    expect(jsonSerializer.deserializeResponse(Buffer.from('not json'))).toEqual({});
  });

  it('skips unknown fields of every wire type, at the top and inside partial success, as upstream does', () => {
    const bytes = Uint8Array.from([
      ...[(9 << 3) | 0, 0x96, 0x01], // field 9, varint 150
      ...[(10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8], // field 10, fixed64
      ...[(11 << 3) | 5, 1, 2, 3, 4], // field 11, fixed32
      ...[(12 << 3) | 2, 2, 0x68, 0x69], // field 12, bytes "hi"
      ...[(1 << 3) | 2, 6, (1 << 3) | 0, 7, (3 << 3) | 0, 1, (4 << 3) | 2, 0], // partial_success { 7, field 3, field 4 }
    ]);
    expect(decodeProtobufResponse(bytes)).toEqual({ partialSuccess: { rejectedDataPoints: 7 } });
    expect(decodeProtobufResponse(bytes)).toEqual(ProtobufMetricsSerializer.deserializeResponse(bytes));
  });

  it('refuses a truncated body, a group wire type and a length past the end, naming what is wrong', () => {
    expect(() => decodeProtobufResponse(Uint8Array.from([(1 << 3) | 2, 0x80]))).toThrow('truncated varint');
    expect(() => decodeProtobufResponse(Uint8Array.from([(1 << 3) | 2, 5, 8]))).toThrow('truncated field');
    expect(() => decodeProtobufResponse(Uint8Array.from([(2 << 3) | 3]))).toThrow('wire type 3');
  });

  it('counts every data point of a collection, the store columns and the SDK metrics alike', async () => {
    expect(metricsExporterMetricsHelper.name).toBe('metric_data_point');
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    try {
      handle.meterProvider.getMeter('app').createCounter('app_requests').add(1, { route: '/a' });
      for (const source of ['direct', 'email', 'google'])
        handle.metrics.recordFunnelStep('cart_view', { source, deviceType: 'web' });
      handle.metrics.recordRevenue(2599, {
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu_west',
      });
      await handle.forceFlush();
      const collection = exporter.getMetrics().at(-1)!;
      // Counted before anything reads the store scope's metrics, then checked against the materialised points.
      const counted = metricsExporterMetricsHelper.countItems(collection);
      const scopes = collection.scopeMetrics;
      expect(scopes.filter((scope) => storeCollectionOf(scope) !== undefined)).toHaveLength(1);
      expect(scopes.filter((scope) => storeCollectionOf(scope) === undefined).length).toBeGreaterThan(0);
      const points = scopes
        .flatMap((scope) => scope.metrics)
        .reduce((count, metric) => count + metric.dataPoints.length, 0);
      // 3 funnel series, revenue and order value, the app's counter, at least.
      expect(points).toBeGreaterThanOrEqual(6);
      expect(counted).toBe(points);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
    }
  });

  it.each([
    ['protobuf', protobufSerializer, ProtobufMetricsSerializer],
    ['json', jsonSerializer, JsonMetricsSerializer],
  ] as const)(
    'encodes, %s, each export as upstream does while each collection reuses the columns the last export gave back',
    async (format, ours, upstream) => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const handle = initBusinessMetrics({ exporters: [exporter], env: {} });
      try {
        let previous: Float64Array | undefined;
        let reused = 0;
        for (let round = 1; round <= 4; round++) {
          for (const source of ['direct', 'email', 'google'].slice(0, round))
            handle.metrics.recordFunnelStep('cart_view', { source, deviceType: 'web' });
          handle.metrics.recordRevenue(100 * round, {
            productCategory: 'books',
            paymentMethod: 'card',
            region: 'eu_west',
          });
          await handle.forceFlush();
          const collection = exporter.getMetrics().at(-1)!;
          const store = storeCollectionOf(
            collection.scopeMetrics.find((scope) => storeCollectionOf(scope))!,
          )!;
          const funnel = store.metrics.find((metric) => metric.definition.name === 'business_funnel_step')!;
          if (funnel.kind !== 'counter') throw new Error('the funnel is a counter');
          if (funnel.values === previous) reused++;
          previous = funnel.values;
          // Upstream first: it reads (and so keeps) the MetricData, which ours, giving the columns back, would empty.
          const expected = upstream.serializeRequest(collection)!;
          const actual = ours.serializeRequest(collection)!;
          if (format === 'json') {
            expect(JSON.parse(Buffer.from(actual).toString('utf8'))).toEqual(
              JSON.parse(Buffer.from(expected).toString('utf8')),
            );
          } else {
            expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
          }
          expect(metricsExporterMetricsHelper.countItems(collection)).toBeGreaterThanOrEqual(round + 1);
        }
        // Rounds 3 and 4 keep the funnel's three series, so their collections take the arrays given back before.
        expect(reused).toBeGreaterThanOrEqual(1);
      } finally {
        await handle.shutdown({ timeoutMillis: 2000 });
      }
    },
  );
});
