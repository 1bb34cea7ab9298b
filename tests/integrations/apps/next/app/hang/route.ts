// Scenario-only route (added to a copy of examples/next-app): never answers, so the test can abort it.
import { withHttpMetrics } from 'otel-business-metrics/fetch';

export const dynamic = 'force-dynamic';

export const GET = withHttpMetrics('/hang', () => new Promise<Response>(() => undefined));
