/**
 * The requests a handle recorded in `http.server.request.duration`, as one line each, for the tests of the adapters
 * that feed it: `METHOD route status scheme error.type` (`-` for an absent label) with its count, e.g.
 * `{ 'GET /product/:id 200 http -': 2, 'GET /hang - http aborted': 1 }`.
 *
 * Owns: reading those series from a handle's exposition, and waiting until they hold (adapters record when a
 * response closes, after the client has its answer). Must not touch: assertions.
 */
import type { BusinessMetricsHandle } from '../../src';
import { parseExposition } from './exposition';

export type RecordedRequests = Record<string, number>;

/** The handle's recorded requests now. */
export async function recordedRequests(handle: BusinessMetricsHandle): Promise<RecordedRequests> {
  const exposition = parseExposition(await handle.metrics.getMetrics());
  return Object.fromEntries(
    exposition.find('http_server_request_duration_seconds_count').map((s) => {
      const { http_request_method, http_route, http_response_status_code, url_scheme, error_type } = s.labels;
      const parts = [http_request_method, http_route, http_response_status_code, url_scheme, error_type];
      return [parts.map((part) => part ?? '-').join(' '), s.value];
    }),
  );
}

/** The recorded requests once `done` holds for them (the test's timeout bounds the wait). */
export async function recordedWhen(
  handle: BusinessMetricsHandle,
  done: (requests: RecordedRequests) => boolean,
): Promise<RecordedRequests> {
  for (;;) {
    const requests = await recordedRequests(handle);
    if (done(requests)) return requests;
    // Let the sockets' close events run.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
