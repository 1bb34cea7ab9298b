// What every NestJS test app does the same way (nest.mjs, the scenario app; nest-module.mjs, the module's own test
// app): Nest's decorators applied as the functions they are (plain JavaScript has no decorator syntax), and the app
// started on the platform named on the command line behind the test's loopback "proxy", then announced.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ready } from './config.mjs';

/** `@decorator` on `Controller.prototype[method]`. */
export function decorateMethod(Controller, method, decorator) {
  Reflect.decorate(
    [decorator],
    Controller.prototype,
    method,
    Object.getOwnPropertyDescriptor(Controller.prototype, method),
  );
}

/** Start `AppModule` on `platform` (express or fastify) on a free loopback port; stop it and `telemetry` on SIGTERM. */
export async function serveNest(AppModule, platform, telemetry) {
  const app =
    platform === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter({ trustProxy: '127.0.0.1' }), {
          logger: false,
        })
      : await NestFactory.create(AppModule, { logger: false });
  if (platform !== 'fastify') app.set('trust proxy', 'loopback');
  await app.listen(0, '127.0.0.1');
  ready(`http://127.0.0.1:${app.getHttpServer().address().port}`, async () => {
    app.getHttpServer().closeAllConnections();
    await telemetry.shutdown({ timeoutMillis: 1000 });
  });
}
