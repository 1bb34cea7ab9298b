// The scenario app on NestJS 12, on the platform named by argv[2]: express or fastify (otel-business-metrics/nestjs).
// Plain JavaScript has no decorator syntax: Nest's decorators are applied as the functions they are.
import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post, Req } from '@nestjs/common';
import { BusinessMetricsModule, deriveSessionContext } from 'otel-business-metrics/nestjs';
import { ENGAGEMENT, TOKEN, completeCheckout, telemetryFor } from './config.mjs';
import { decorateMethod, serveNest } from './nest-platform.mjs';

const platform = process.argv[2];
const telemetry = telemetryFor(`nest-${platform}`);

class ShopController {
  product(id) {
    return `product ${id}`;
  }
  checkout(req, body) {
    return completeCheckout(deriveSessionContext(req), body);
  }
  hang() {
    return new Promise(() => undefined);
  }
  boom() {
    throw new Error('boom');
  }
}
const route = (decorator, method) => decorateMethod(ShopController, method, decorator);
route(Get('/product/:id'), 'product');
Param('id')(ShopController.prototype, 'product', 0);
route(Post('/api/checkout/complete'), 'checkout');
Req()(ShopController.prototype, 'checkout', 0);
Body()(ShopController.prototype, 'checkout', 1);
route(Get('/hang'), 'hang');
route(Get('/boom'), 'boom');
Controller()(ShopController);

class AppModule {}
Module({
  imports: [
    BusinessMetricsModule.forRoot({
      telemetry,
      metrics: { auth: { bearerToken: TOKEN } },
      engagement: ENGAGEMENT,
    }),
  ],
  controllers: [ShopController],
})(AppModule);

await serveNest(AppModule, platform, telemetry);
