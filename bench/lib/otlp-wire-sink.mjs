/**
 * An OTLP sink for the per-protocol export row, run as its own process (forked by bench/cases/otlp-export.mjs) so
 * receiving costs nothing to the exporter being measured. It answers OTLP/HTTP (protobuf or JSON: an empty 200 is
 * a valid success response for both) and OTLP/gRPC (the Export method with raw bytes in and an empty message out),
 * and reports the size of every request body to its parent.
 *
 * Owns: two loopback servers on free ports. Must not touch: timing, decoding (not needed to count bytes).
 */
import { createServer } from 'node:http';
import { require } from './workload.mjs';

const grpc = require(
  require.resolve('@grpc/grpc-js', { paths: [require.resolve('@opentelemetry/exporter-metrics-otlp-grpc')] }),
);

const http = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    process.send({ type: 'request', bytes });
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
  });
});
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));

const identity = (value) => value;
const server = new grpc.Server();
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
    Export(call, callback) {
      process.send({ type: 'request', bytes: call.request.length });
      callback(null, Buffer.alloc(0));
    },
  },
);
const grpcPort = await new Promise((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
    error ? reject(error) : resolve(port),
  ),
);
process.send({ type: 'ports', http: http.address().port, grpc: grpcPort });
process.on('disconnect', () => process.exit(0));
