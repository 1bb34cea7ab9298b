/**
 * Starts a real Prometheus server (Debian package) on a free loopback port with a temporary data dir, and
 * stops it. Every test that starts one must call `stop()` (use afterAll).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './ports';

export { freePort };

export interface PrometheusServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** GET an API path (e.g. `/api/v1/query?query=up`) and return the parsed JSON body. */
  api<T = unknown>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** prometheus.yml contents; `rule_files` paths should be absolute. */
  config: string;
  /** Use an existing TSDB directory (e.g. one filled by `promtool tsdb create-blocks-from`). */
  dataDir?: string;
  extraArgs?: string[];
}

export async function startPrometheus(
  binary: string,
  options: StartPrometheusOptions,
): Promise<PrometheusServer> {
  const workDir = mkdtempSync(join(tmpdir(), 'obm-prom-'));
  const dataDir = options.dataDir ?? join(workDir, 'data');
  const configFile = join(workDir, 'prometheus.yml');
  writeFileSync(configFile, options.config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=30d',
      '--web.enable-admin-api',
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(workDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited early (${child.exitCode}):\n${log}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 30s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    port,
    dataDir,
    async api<T>(path: string): Promise<T> {
      const response = await fetch(`${url}${path}`);
      return (await response.json()) as T;
    },
    stop,
  };
}
