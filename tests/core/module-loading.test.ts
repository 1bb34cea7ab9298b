/**
 * Load what is used (issue 26): an app that only serves Prometheus scrapes never loads the OpenTelemetry SDK
 * (sdk-metrics, core, resources, semantic-conventions), unless it reads `handle.meterProvider`, nor the API when
 * nothing in its process traces or logs through diag, nor the OTLP code, its own
 * (src/exporters/otlp-wire/) or the official packages' (the transport, the upstream transformer and exporters,
 * protobuf and gRPC libraries), nor the Redis store of active users, nor cluster mode; an app that pushes OTLP does load the encoder and the transport, and still not the
 * upstream transformer. Real child processes running the built package (dist/), which list every module they
 * loaded after a whole life: require, initBusinessMetrics, one step recorded, one scrape or push, shutdown. The
 * package's own modules are read from dist/bundle.js by V8's coverage of each module's function in it
 * (tests/support/bundle-modules.ts): what ran, not what the file contains.
 * Nor does an app that records no money read a currency's exponent from ICU (docs/money.md): the first
 * `Intl.NumberFormat` costs ~6.5 MiB of resident memory.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { LOADED_MODULES_SNIPPET } from '../support/bundle-modules';

const DIST = join(__dirname, '../../dist/index.js');

/** The script of the child: its modules as JSON on stdout. `URL` (argv[2]) is the OTLP receiver, if any. */
const APP = `${LOADED_MODULES_SNIPPET}
const [otlpUrl, recordsMoney, appMetrics] = process.argv.slice(1);
let numberFormats = 0;
const NumberFormat = Intl.NumberFormat;
Intl.NumberFormat = function (...args) {
  numberFormats++;
  return new NumberFormat(...args);
};
const { initBusinessMetrics, businessMetrics } = require(${JSON.stringify(DIST)});
(async () => {
  const telemetry = initBusinessMetrics(
    otlpUrl
      ? { exporters: ['otlp'], otlp: { url: otlpUrl }, env: {} }
      : { exporters: ['prometheus'], prometheus: { host: '127.0.0.1', port: 0 }, env: {} },
  );
  await telemetry.ready;
  businessMetrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
  if (appMetrics) telemetry.meterProvider.getMeter('app').createCounter('app.requests').add(3);
  if (recordsMoney) businessMetrics.recordRevenue(1999, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
  const seen = otlpUrl
    ? (await telemetry.forceFlush(), 'pushed')
    : await (await fetch(telemetry.prometheus.url)).text();
  await telemetry.shutdown();
  process.stdout.write(JSON.stringify({ seen, modules: loadedModules(), numberFormats }));
})();
`;

interface AppLife {
  seen: string;
  modules: string[];
  /** How many Intl.NumberFormat the process constructed. */
  numberFormats: number;
}

function runApp(otlpUrl?: string, recordsMoney = false, appMetrics = false): Promise<AppLife> {
  const args = ['-e', APP, otlpUrl ?? '', recordsMoney ? 'money' : '', appMetrics ? 'app' : ''];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as AppLife);
    });
  });
}

/** Modules of the OTLP push path: the package's encoder, the official transport, exporters and transformer. */
const OTLP_MODULE =
  /dist\/exporters\/otlp-wire\/|@opentelemetry\/(otlp-|exporter-metrics-otlp)|@grpc\/|protobufjs|@protobufjs\//;
/** Cluster mode's implementation (its options and the public worker-thread watch are always loaded). */
const CLUSTER_MODE = /dist\/cluster\/(endpoint|primary|aggregate|encode|worker|source|protocol)/;
const UPSTREAM_TRANSFORMER = /@opentelemetry\/(otlp-transformer|exporter-metrics-otlp)/;
/** The SDK: what a pull-only app no longer loads (core's package.json excepted: data, the telemetry.sdk.version). */
const SDK_MODULE = /@opentelemetry\/(sdk-metrics|core|resources|semantic-conventions)\//;
const sdkModules = (modules: readonly string[]) =>
  modules.filter(
    (path) => SDK_MODULE.test(path) && !path.endsWith(join('@opentelemetry', 'core', 'package.json')),
  );

describe('modules an app loads', () => {
  let receiver: Server;
  let received = 0;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('pull only: no OTLP module at all, no Redis store, no cluster mode, no ICU number data, no OpenTelemetry SDK or API', async () => {
    const { seen, modules, numberFormats } = await runApp();
    expect(numberFormats).toBe(0);
    expect(seen).toMatch(/^business_funnel_step_total\{.*step="cart_view".*\} 1$/m);
    expect(modules.filter((path) => OTLP_MODULE.test(path))).toEqual([]);
    expect(modules.filter((path) => path.includes('dist/active-users/redis-store'))).toEqual([]);
    expect(modules.filter((path) => CLUSTER_MODE.test(path))).toEqual([]);
    // No sdk-metrics, core, resources or semantic-conventions (docs/performance.md#cold-start), and not even the
    // API: nothing in this process traces or installed a diag logger (src/support/otel-api.ts).
    expect(sdkModules(modules)).toEqual([]);
    expect(modules.filter((path) => path.includes(join('@opentelemetry', 'api', '')))).toEqual([]);
    // The list is the real one: the package's modules that ran are in it, from the bundle.
    expect(modules.some((path) => path.endsWith(join('dist', 'init.js')))).toBe(true);
    expect(
      modules.some((path) => path.endsWith(join('dist', 'exporters', 'prometheus', 'serializer.js'))),
    ).toBe(true);
  });

  it('pull only: reading handle.meterProvider loads the SDK then, and the OTLP push path still loads it', async () => {
    const { seen, modules } = await runApp(undefined, false, true);
    expect(seen).toMatch(/^app_requests_total\{.*\} 3$/m);
    expect(sdkModules(modules).some((path) => path.includes(join('@opentelemetry', 'sdk-metrics', '')))).toBe(
      true,
    );
  });

  it('an app that records money reads its exponent at the collection, once per currency', async () => {
    const { seen, numberFormats } = await runApp(undefined, true);
    expect(seen).toMatch(/^business_currency_minor_units\{.*currency="USD".*\} 100$/m);
    expect(numberFormats).toBe(1);
  });

  it('OTLP: the encoder and the official transport, never the upstream transformer or exporters', async () => {
    const { port } = receiver.address() as { port: number };
    const { seen, modules } = await runApp(`http://127.0.0.1:${port}/v1/metrics`);
    expect(seen).toBe('pushed');
    expect(received).toBeGreaterThanOrEqual(1);
    const otlp = modules.filter((path) => OTLP_MODULE.test(path));
    expect(otlp.some((path) => path.includes('dist/exporters/otlp-wire/protobuf.js'))).toBe(true);
    expect(otlp.some((path) => path.includes('@opentelemetry/otlp-exporter-base'))).toBe(true);
    expect(modules.filter((path) => UPSTREAM_TRANSFORMER.test(path))).toEqual([]);
    expect(modules.some((path) => path.includes(join('@opentelemetry', 'sdk-metrics', '')))).toBe(true);
  });
});
