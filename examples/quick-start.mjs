// Quick start: business metrics on a Prometheus endpoint (run: npm run build && node examples/quick-start.mjs).
import { initBusinessMetrics, businessMetrics, installShutdownHooks } from 'otel-business-metrics';

// Once, at startup. With no port given, OTEL_EXPORTER_PROMETHEUS_PORT decides (default 9464).
const telemetry = initBusinessMetrics({ exporters: ['prometheus'], serviceName: 'quick-start' });
installShutdownHooks(telemetry); // flush on SIGTERM/SIGINT, then exit as usual
await telemetry.ready;
console.log(`Prometheus metrics at ${telemetry.prometheus.url}`);

// Anywhere in app code: the seed's calls, unchanged.
const sessionStartTime = new Date(Date.now() - 95_000);
businessMetrics.recordFunnelStep('cart_view', {
  source: 'google_ads',
  deviceType: 'mobile',
  experimentVariant: 'B',
});
businessMetrics.recordConversion('purchase', {
  source: 'google_ads',
  deviceType: 'mobile',
  sessionStartTime,
});
businessMetrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
businessMetrics.recordFeatureUsage('dashboard_export', { userTier: 'pro', isNewUser: false });
businessMetrics.recordSessionEnd(sessionStartTime, { userTier: 'pro', entryPage: '/dashboard' });
businessMetrics.updateActiveUsers(
  'daily',
  new Map([
    ['free', 120],
    ['pro', 30],
  ]),
);

// Keep some traffic flowing so there is something to scrape.
setInterval(() => {
  businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
}, 1000);
