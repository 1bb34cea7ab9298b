// The NestJS module's own test app (tests/integrations/nestjs/index.test.ts), on the platform named by argv[2]:
// express or fastify. Every option of BusinessMetricsModule.forRoot set away from its default, a controller that
// injects the recorder, and what forRoot said about two configuration mistakes. Plain JavaScript: Nest's decorators
// are applied as the functions they are.
import 'reflect-metadata';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import { BUSINESS_METRICS, BusinessMetricsModule } from 'otel-business-metrics/nestjs';
import { telemetryFor } from './config.mjs';
import { decorateMethod, serveNest } from './nest-platform.mjs';

const platform = process.argv[2];
const telemetry = telemetryFor(`nest-module-${platform}`);

/** What forRoot throws for options that cannot work, as `[error name, message]`. */
const mistakes = [{ metrics: true }, { httpMetrics: { maxRoutes: 1.5 } }].map((options) => {
  try {
    BusinessMetricsModule.forRoot(options);
    return ['(nothing thrown)', JSON.stringify(options)];
  } catch (error) {
    return [error.name, error.message];
  }
});

class ProbeController {
  constructor(metrics) {
    this.metrics = metrics;
  }
  recorder() {
    this.metrics.recordFeatureUsage('injected', { userTier: 'pro', isNewUser: false });
    return { isTheHandlesRecorder: this.metrics === telemetry.metrics };
  }
  mistakes() {
    return mistakes;
  }
  product() {
    return 'product';
  }
}
const route = (decorator, method) => decorateMethod(ProbeController, method, decorator);
route(Get('/recorder'), 'recorder');
route(Get('/mistakes'), 'mistakes');
route(Get('/product/:id'), 'product');
Inject(BUSINESS_METRICS)(ProbeController, undefined, 0);
Controller()(ProbeController);

class AppModule {}
Module({
  imports: [
    BusinessMetricsModule.forRoot({
      telemetry,
      metrics: { path: '/internal/metrics', auth: (request) => request.headers['x-role'] === 'scraper' },
      engagement: {
        path: '/beacon',
        features: ['search'],
        milestones: [],
        rateLimit: { capacity: 1, refillPerSecond: 0.001 },
      },
      activeUsers: {
        resolveUser: (request) => {
          const user = request.headers['x-user'];
          return typeof user === 'string' ? { userId: user, userTier: 'enterprise' } : undefined;
        },
      },
    }),
  ],
  controllers: [ProbeController],
})(AppModule);

await serveNest(AppModule, platform, telemetry);
