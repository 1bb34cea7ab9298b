/**
 * What `npm start` runs after `npm run build`: examples/shop/start.mjs bundles the shop against dist/ and starts it.
 * Runs it as a child process on a free port with a fast simulator, and stops it with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition, sumOf } from '../../examples/shop/server/exposition';
import { freePort } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';

const REPO = join(__dirname, '..', '..');
const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;

describe('npm start (examples/shop/start.mjs)', () => {
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('starts on PORT/HOST, prints the URLs, simulates traffic, guards /metrics with METRICS_TOKEN, stops on SIGTERM', async () => {
    // `npm test` builds before running jest; running this file alone needs `npm run build` first.
    expect(existsSync(join(REPO, 'dist', 'index.js'))).toBe(true);
    const port = await freePort();
    child = spawn(process.execPath, [join(REPO, 'examples', 'shop', 'start.mjs')], {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        SIM_SESSIONS_PER_SECOND: '40',
        SIM_THINK_SCALE: '0.02',
        METRICS_TOKEN: 'start-test-token',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    const base = `http://127.0.0.1:${port}`;
    await waitUntil(
      'the shop to print its URLs',
      () => {
        if (child!.exitCode !== null) throw new Error(`the shop exited:\n${output}`);
        return output.includes(`${base}/dashboard`);
      },
      { timeoutMillis: 30_000, intervalMillis: 100, context: (missing) => `${missing}\n${output}` },
    );
    for (const path of ['/', '/dashboard', '/metrics', '/admin']) expect(output).toContain(`${base}${path}`);

    // The simulator is on by default: shoppers reach the cart within a few seconds.
    await waitUntil('simulated shoppers to reach the cart', async () => {
      const scrape = await fetch(`${base}/metrics`, {
        headers: { authorization: 'Bearer start-test-token' },
      });
      return sumOf(parseExposition(await scrape.text()), FUNNEL, { step: 'cart_view' }) > 0;
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    // The token guards everything that shows business numbers, the dashboard included.
    expect((await fetch(`${base}/dashboard`)).status).toBe(401);
    const operator = { authorization: 'Bearer start-test-token' };
    expect((await fetch(`${base}/dashboard`, { headers: operator })).status).toBe(200);
    expect((await fetch(`${base}/assets/vendor/uPlot.iife.min.js`)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopping the shop');
  });

  it('says which port is taken and how to choose another, instead of crashing, when PORT is busy', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const run = spawn(process.execPath, [join(REPO, 'examples', 'shop', 'start.mjs')], {
        cwd: REPO,
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SIMULATE: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let said = '';
      run.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
      run.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
      const code = await new Promise<number | null>((resolve) =>
        run.once('exit', (exitCode) => resolve(exitCode)),
      );
      expect(code).toBe(1);
      expect(said).toContain(
        `The shop could not start: port ${port} is already in use on 127.0.0.1 (EADDRINUSE); choose another with PORT, e.g. PORT=3001 npm start`,
      );
      expect(said).not.toContain('Cannot read properties');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
