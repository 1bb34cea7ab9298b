// Runs once when the Next.js server starts. The package needs Node.js: initialise it on the Node.js runtime only
// (Edge cannot run the OpenTelemetry SDK).
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { initBusinessMetrics, installShutdownHooks } = await import('otel-business-metrics');
    const telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true }, // /metrics is a route of this app (app/metrics/route.ts)
      serviceName: 'next-shop',
    });
    installShutdownHooks(telemetry);
  }
}
