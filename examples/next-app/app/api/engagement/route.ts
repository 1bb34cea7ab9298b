import { engagementHandler, withHttpMetrics } from 'otel-business-metrics/fetch';

// The browser client posts here. Only the names the pages report are accepted.
export const POST = withHttpMetrics(
  '/api/engagement',
  engagementHandler({ features: ['size_guide', 'search'], milestones: ['first_purchase'] }),
);
