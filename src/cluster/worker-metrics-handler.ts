/**
 * The `(req, res)` handler a cluster worker mounts as `/metrics` on the app's shared port: it asks the primary for
 * the aggregate and writes it as text 0.0.4, or 503 when the primary does not answer.
 *
 * Owns: that answer. Must not touch: the exposition (the primary renders it), the transport (source.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from '../exporters/prometheus';

/** Serves `exposition()` (the fleet's numbers, from the primary) on the worker's own server. */
export function clusterMetricsHandler(
  exposition: () => Promise<string>,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (_request, response) => {
    exposition().then(
      (body) => {
        response.writeHead(200, {
          'content-type': PROMETHEUS_TEXT_CONTENT_TYPE,
          'content-length': Buffer.byteLength(body, 'utf8'),
        });
        response.end(body);
      },
      (error: unknown) => {
        diag.warn(`otel-business-metrics: cluster exposition unavailable: ${String(error)}`);
        if (!response.headersSent) response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('# the cluster primary did not answer\n');
      },
    );
  };
}
