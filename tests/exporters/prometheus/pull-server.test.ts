/**
 * src/exporters/prometheus/pull-server.ts: the pull endpoint over a plain collection function, without the SDK (what a
 * pull-only app serves through): it serves what `collect` returns in either format on its own server and through
 * the mounted handler, answers 404 elsewhere, logs a collection's errors and still serves, rejects `ready` with a
 * clear message when the port is taken, and stops listening at shutdown. Built inside listeningAfter (as init builds
 * its endpoints), a server listens only once the whole build has returned, and never if it threw.
 */
import { createServer } from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import { listeningAfter, PrometheusPullServer } from '../../../src/exporters/prometheus/pull-server';
import { freePort } from '../../support/ports';
import { captureDiag } from '../../support/diag-messages';
import { AttributesResource } from '../../../src/config/resource';
import { AggregationTemporality, DataPointType } from '../../../src/series/otel-enums';

function collection(value: number, errors: unknown[] = []): CollectionResult {
  return {
    resourceMetrics: {
      resource: new AttributesResource({ 'service.name': 'pull-server' }),
      scopeMetrics: [
        {
          scope: { name: 'test' },
          metrics: [
            {
              descriptor: { name: 'jobs', description: 'Jobs done', unit: '', valueType: 1 } as never,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: { kind: 'a' }, value }],
            },
          ],
        },
      ],
    },
    errors,
  };
}

describe('PrometheusPullServer', () => {
  it('serves the collection on its own server and through the mounted handler, 404 elsewhere', async () => {
    let calls = 0;
    const server = new PrometheusPullServer({ host: '127.0.0.1', port: 0 }, async () => collection(++calls));
    try {
      await server.ready;
      expect(server.listening).toBe(true);
      const text = await (await fetch(server.url)).text();
      expect(text).toMatch(/^target_info\{service_name="pull-server"\} 1$/m);
      expect(text).toMatch(/^jobs_total\{kind="a",otel_scope_name="test"\} 1$/m);
      const open = await fetch(server.url, {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      });
      expect(await open.text()).toMatch(/^jobs_total\{kind="a",otel_scope_name="test"\} 2\n[^]*# EOF\n$/m);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
      const mounted = createServer(server.metricsHandler);
      await new Promise<void>((resolve) => mounted.listen(0, '127.0.0.1', resolve));
      const { port } = mounted.address() as { port: number };
      expect(await (await fetch(`http://127.0.0.1:${port}/anything`)).text()).toMatch(
        /^jobs_total\{.*\} 3$/m,
      );
      await new Promise<void>((resolve) => {
        mounted.close(() => resolve());
        mounted.closeAllConnections();
      });
    } finally {
      await server.shutdown();
    }
    expect(server.listening).toBe(false);
  });

  it("logs a collection's errors through diag and still serves what was collected", async () => {
    const error = jest.fn();
    const ignore = () => undefined;
    diag.setLogger({ error, warn: ignore, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.ERROR);
    const server = new PrometheusPullServer({ preventServerStart: true }, async () =>
      collection(5, [new Error('a callback failed')]),
    );
    try {
      expect(await server.getMetrics()).toMatch(/^jobs_total\{.*\} 5$/m);
      expect(error).toHaveBeenCalledWith(
        'Prometheus exporter: errors while collecting metrics',
        expect.any(Error),
      );
    } finally {
      diag.disable();
      await server.shutdown();
    }
  });

  it('rejects ready naming the address when the port is taken', async () => {
    const messages = captureDiag();
    const first = new PrometheusPullServer({ host: '127.0.0.1', port: 0 }, async () => collection(1));
    await first.ready;
    const second = new PrometheusPullServer({ host: '127.0.0.1', port: first.port }, async () =>
      collection(1),
    );
    try {
      await expect(second.ready).rejects.toThrow(
        `could not listen on 127.0.0.1:${first.port}: address already in use`,
      );
      expect(second.listening).toBe(false);
      // Said once, through diag, naming the address.
      expect(messages.errors).toEqual([
        expect.stringContaining(`could not listen on 127.0.0.1:${first.port}`),
      ]);
    } finally {
      messages.stop();
      await Promise.all([first.shutdown(), second.shutdown()]);
    }
  });

  it('inside listeningAfter: listens only once the build has returned, and never if the build throws', async () => {
    const port = await freePort();
    const build = (fail: boolean) =>
      listeningAfter(() => {
        const server = new PrometheusPullServer({ host: '127.0.0.1', port }, async () => collection(1));
        if (fail) throw new Error('a later part of init failed');
        return server;
      });
    expect(() => build(true)).toThrow('a later part of init failed');
    // Had the failed build's server bound the port, this one's ready would reject with EADDRINUSE.
    const server = build(false);
    try {
      await server.ready;
      expect(server.listening).toBe(true);
      expect(server.port).toBe(port);
    } finally {
      await server.shutdown();
    }
  });

  it('inside listeningAfter: an abandoned server rejects ready, and its shutdown resolves', async () => {
    let held: PrometheusPullServer | undefined;
    expect(() =>
      listeningAfter(() => {
        held = new PrometheusPullServer({ host: '127.0.0.1', port: 0 }, async () => collection(1));
        throw new Error('failed');
      }),
    ).toThrow('failed');
    await expect(held!.ready).rejects.toThrow('never listened');
    expect(held!.listening).toBe(false);
    await held!.shutdown();
  });
});
