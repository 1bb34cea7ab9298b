// Scenario-only route (added to a copy of examples/next-app): answers only when its client has gone away, so the
// test can abort it (withHttpMetrics records a request when its handler returns).
import { withHttpMetrics } from 'otel-business-metrics/fetch';

export const dynamic = 'force-dynamic';

export const GET = withHttpMetrics(
  '/hang',
  (request: Request) =>
    new Promise<Response>((resolve) =>
      request.signal.addEventListener('abort', () => resolve(new Response(null, { status: 204 }))),
    ),
);
