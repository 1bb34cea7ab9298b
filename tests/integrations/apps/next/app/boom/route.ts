// Scenario-only route (added to a copy of examples/next-app): throws, so Next.js answers 500.
import { withHttpMetrics } from 'otel-business-metrics/fetch';

export const dynamic = 'force-dynamic';

export const GET = withHttpMetrics('/boom', (): Response => {
  throw new Error('boom');
});
