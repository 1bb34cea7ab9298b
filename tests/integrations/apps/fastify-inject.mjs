// Requests made with Fastify's app.inject (light-my-request, which Jest cannot load) through the plugin: prints the
// status of each answer and the exposition once every response has closed.
import Fastify from 'fastify';
import { initBusinessMetrics } from 'otel-business-metrics';
import { businessMetricsPlugin } from 'otel-business-metrics/fastify';

const telemetry = initBusinessMetrics({
  exporters: ['prometheus'],
  prometheus: { preventServerStart: true },
  serviceName: 'fastify-inject',
  env: {},
});
const app = Fastify();
await app.register(businessMetricsPlugin, { telemetry });
app.get('/injected/:id', async () => 'injected');
app.get('/boom', async () => {
  throw new Error('boom');
});
const answers = [];
for (const url of ['/injected/1', '/injected/2', '/boom', '/nowhere']) {
  answers.push((await app.inject({ method: 'GET', url })).statusCode);
}
// Recorded when a response closes, a tick after inject() has the answer.
await new Promise((resolve) => setImmediate(resolve));
process.stdout.write(JSON.stringify({ answers, exposition: await telemetry.metrics.getMetrics() }));
await app.close();
await telemetry.shutdown();
