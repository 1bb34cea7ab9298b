import { metricsHandler } from 'otel-business-metrics/fetch';

export const dynamic = 'force-dynamic';

// Prometheus scrapes this with `authorization: Bearer <METRICS_TOKEN>` (OpenMetrics and gzip negotiated).
export const GET = metricsHandler({ auth: { bearerToken: process.env.METRICS_TOKEN ?? '' } });
