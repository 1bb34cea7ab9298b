// The seed's checkout funnel on NestJS 12 (Express platform; see the comment at the bottom for Fastify).
import 'reflect-metadata';
import { Body, Controller, Inject, Module, Param, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CheckoutTracker,
  initBusinessMetrics,
  installShutdownHooks,
  type BusinessMetricsRecorder,
} from 'otel-business-metrics';
import { BUSINESS_METRICS, BusinessMetricsModule, deriveSessionContext } from 'otel-business-metrics/nestjs';

// Before NestFactory.create, so the module can record from the first request.
const telemetry = initBusinessMetrics({
  exporters: ['prometheus'],
  prometheus: { preventServerStart: true }, // /metrics is a route of this app
  serviceName: 'nest-shop',
});
installShutdownHooks(telemetry);

interface OrderBody {
  orderValue: number;
  productCategory: string;
  paymentMethod: string;
  region: string;
}

@Controller('api/checkout')
class CheckoutController {
  constructor(@Inject(BUSINESS_METRICS) private readonly metrics: BusinessMetricsRecorder) {}

  @Post(':step')
  step(
    @Param('step') step: string,
    @Req() request: Parameters<typeof deriveSessionContext>[0],
    @Body() body: OrderBody,
  ) {
    // In a real app, derive this once when the session starts and keep it in the session.
    const tracker = new CheckoutTracker({
      ...deriveSessionContext(request),
      sessionStartTime: new Date(Date.now() - 120_000),
    });
    if (step === 'cart') tracker.trackCartView(body.orderValue, 1);
    else if (step === 'shipping') tracker.trackShippingInfo();
    else if (step === 'payment') tracker.trackPaymentInfo(body.paymentMethod);
    else if (step === 'review') tracker.trackOrderReview();
    else if (step === 'complete') {
      tracker.trackPurchaseComplete(body.orderValue, body.productCategory, body.paymentMethod, body.region);
      this.metrics.recordFeatureUsage('express_checkout', { userTier: 'pro', isNewUser: false });
    }
    return { success: true };
  }
}

@Module({
  imports: [
    BusinessMetricsModule.forRoot({
      telemetry, // http.server.request.duration for every route, labelled with the route pattern
      metrics: process.env.METRICS_TOKEN ? { auth: { bearerToken: process.env.METRICS_TOKEN } } : true,
      engagement: { features: ['size_guide', 'search'], milestones: ['first_purchase'] },
    }),
  ],
  controllers: [CheckoutController],
})
class AppModule {}

// On the Fastify platform: NestFactory.create(AppModule, new FastifyAdapter()) from @nestjs/platform-fastify.
const app = await NestFactory.create(AppModule);
await app.listen(Number(process.env.PORT ?? 3003), '127.0.0.1');
console.log(`NestJS shop at ${await app.getUrl()}, metrics at /metrics`);
