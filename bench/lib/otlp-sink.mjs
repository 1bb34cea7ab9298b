/**
 * A minimal real OTLP/HTTP JSON receiver for the exporters row: it proves the OTLP path exported every
 * measurement (self-check), it is not a test fixture (tests use tests/support/otlp-receiver.ts).
 *
 * Owns: one loopback HTTP server on a free port and the last request body. Must not touch: timing.
 */
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

export async function startOtlpSink() {
  let latest;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      latest = JSON.parse(body.toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/metrics`,
    /** Sum of the data points of a (cumulative) sum metric in the last export, or NaN if it was not there. */
    latestCounterTotal(name) {
      let total = NaN;
      for (const resource of latest?.resourceMetrics ?? []) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics) {
            if (metric.name !== name || !metric.sum) continue;
            total = 0;
            for (const point of metric.sum.dataPoints) total += Number(point.asDouble ?? point.asInt ?? NaN);
          }
        }
      }
      return total;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
