// The scenario app on NestJS 12, on the platform named by argv[2]: express or fastify (otel-business-metrics/nestjs).
// Plain JavaScript has no decorator syntax: Nest's decorators are applied as the functions they are.
import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BusinessMetricsModule, deriveSessionContext } from 'otel-business-metrics/nestjs';
import { ENGAGEMENT, TOKEN, completeCheckout, ready, telemetryFor } from './config.mjs';

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
const route = (decorator, method) =>
  Reflect.decorate(
    [decorator],
    ShopController.prototype,
    method,
    Object.getOwnPropertyDescriptor(ShopController.prototype, method),
  );
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

const app =
  platform === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter({ trustProxy: '127.0.0.1' }), { logger: false })
    : await NestFactory.create(AppModule, { logger: false });
if (platform !== 'fastify') app.set('trust proxy', 'loopback');
await app.listen(0, '127.0.0.1');
ready(`http://127.0.0.1:${app.getHttpServer().address().port}`, async () => {
  app.getHttpServer().closeAllConnections();
  await telemetry.shutdown({ timeoutMillis: 1000 });
});
