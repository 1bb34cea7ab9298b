// The one configuration every scenario app serves (tests/integrations/scenarios.test.ts and hostile.test.ts run the
// same table against each): the same routes, the same token, the same engagement allow-lists. Each app is a real
// framework app on the built package (its public entry points), started as a child process on a free port.
import { CheckoutTracker, initBusinessMetrics } from 'otel-business-metrics';

/** The scrape token (the test passes it in METRICS_TOKEN). */
export const TOKEN = process.env.METRICS_TOKEN ?? 'scenario-token';

/** The engagement route's options: the names the app's pages report. */
export const ENGAGEMENT = { features: ['size_guide', 'search'], milestones: ['first_purchase'] };

/** Initialise the package: /metrics is served on the app's own port. */
export function telemetryFor(framework) {
  return initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    serviceName: `scenario-${framework}`,
  });
}

/** The checkout route's work, the same on every framework: the funnel's last step, with the derived context. */
export function completeCheckout(context, body) {
  const tracker = new CheckoutTracker({ ...context, sessionStartTime: new Date(Date.now() - 90_000) });
  tracker.trackPurchaseComplete(body.orderValue, body.productCategory, body.paymentMethod, body.region);
  return { success: true };
}

/** The client address behind the test's loopback "proxy": the last X-Forwarded-For entry from loopback only. */
export function clientBehindLoopback(remoteAddress, forwardedFor) {
  const loopback =
    remoteAddress === '127.0.0.1' || remoteAddress === '::1' || remoteAddress === '::ffff:127.0.0.1';
  if (!loopback || !forwardedFor) return remoteAddress;
  return forwardedFor.slice(forwardedFor.lastIndexOf(',') + 1).trim();
}

/** Tell the test where the app listens; stop on SIGTERM. */
export function ready(url, stop) {
  process.stdout.write(`READY ${url}\n`);
  process.once('SIGTERM', () => {
    void Promise.resolve(stop()).finally(() => process.exit(0));
  });
}
