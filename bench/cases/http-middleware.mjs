/**
 * What `httpMetricsMiddleware` costs a request, in-process: the middleware call, its `close` listener and the
 * recording, with real Express route objects (so `http.route` is resolved from the app's patterns).
 *
 * Variants: `ours` (recorded through the package's series store, `{ telemetry }`), `raw-sdk` (what 0.1.0 did: an
 * SDK histogram with a fresh attribute object per request, the SDK hashing it), and `none` (the same request and
 * response plumbing with no middleware: the floor the cost is measured from).
 *
 * Owns: those variants and their self-check (requests recorded = requests made, by route). Must not touch: rounds,
 * statistics (bench/run.mjs).
 */
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { DIST, loadPackage, parseExposition, require } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const ROUTES = ['/product/:id', '/cart', '/checkout/shipping', '/api/engagement'];
const COUNT = 'http_server_request_duration_seconds_count';

serveCase(async ({ variant }) => {
  if (!['ours', 'raw-sdk', 'none'].includes(variant)) throw new Error(`no variant ${variant} in row http`);
  const pkg = loadPackage();
  const { httpMetricsMiddleware } = require(join(dirname(DIST), 'integrations', 'express', 'index.js'));
  const express = require('express');
  const app = express();
  // app.route() returns the Route object Express sets as req.route when it matches.
  const routes = ROUTES.map((path) => app.route(path).get(() => undefined));
  const telemetry = pkg.initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    serviceName: 'bench',
    env: {},
  });
  let handle;
  if (variant === 'ours') {
    handle = httpMetricsMiddleware({ telemetry });
  } else if (variant === 'raw-sdk') {
    const histogram = telemetry.meterProvider
      .getMeter('bench')
      .createHistogram('http.server.request.duration', {
        unit: 's',
        advice: {
          explicitBucketBoundaries: [
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
          ],
        },
      });
    handle = (req, res, next) => {
      const start = performance.now();
      res.on('close', () => {
        histogram.record((performance.now() - start) / 1000, {
          'http.request.method': req.method,
          'url.scheme': 'http',
          'http.route': req.route.path,
          'http.response.status_code': res.statusCode,
        });
      });
      next();
    };
  }
  const next = () => undefined;
  const requests = routes.map((route) => ({
    method: 'GET',
    route,
    app,
    baseUrl: '',
    headers: {},
    socket: {},
  }));
  const res = new EventEmitter();
  res.statusCode = 200;
  res.writableFinished = true;
  let made = 0;
  return {
    round(iterations) {
      for (let i = 0; i < iterations; i++) {
        // Counted across rounds, so every route is requested once at least 4 requests were made, however the
        // requests are split into rounds (smoke mode can run rounds of a single request).
        const req = requests[(made + i) & 3];
        if (handle) handle(req, res, next);
        res.emit('close');
        res.removeAllListeners('close');
      }
      made += iterations;
    },
    async check() {
      if (variant === 'none') return { ok: true, detail: `${made} requests, nothing recorded` };
      const samples = parseExposition(await telemetry.metrics.getMetrics()).filter((s) => s.name === COUNT);
      const total = samples.reduce((sum, s) => sum + s.value, 0);
      // Labels come as the raw `{...}` text here; the route's pattern must appear quoted in it.
      const expected = ROUTES.slice(0, Math.min(made, ROUTES.length));
      const seen = new Set(
        ROUTES.filter((route) => samples.some((s) => s.labels.includes(`http_route="${route}"`))),
      );
      const wrong = [];
      if (total !== made) wrong.push(`recorded ${total} requests, made ${made}`);
      if (seen.size !== expected.length || expected.some((route) => !seen.has(route)))
        wrong.push(`routes seen: ${[...seen].join(', ')}; expected: ${expected.join(', ')}`);
      return wrong.length
        ? { ok: false, detail: wrong.join('; ') }
        : { ok: true, detail: `${total} requests` };
    },
    async close() {
      await telemetry.shutdown();
    },
  };
});
