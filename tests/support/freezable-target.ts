/**
 * A scrape target between Prometheus and an app's /metrics that can be frozen. Until `freeze()`, every scrape is
 * passed through (the Accept header forwarded, the body unchanged). From then on every scrape is answered with
 * the last body again, each sample stamped with the instant it was first served: Prometheus stores that one
 * sample and then no new one (the same timestamp again is a duplicate), and writes no staleness marker, as it
 * would if the target went away. A pushed path stops the same way when its app stops exporting; comparisons
 * between backends then no longer depend on when each one last sampled (tests/push/push-paths.e2e.test.ts).
 */
import { createServer, type Server } from 'node:http';

export interface FreezableTarget {
  /** `127.0.0.1:<port>`, to scrape instead of the app. */
  readonly address: string;
  /** Serve the last body from now on; returns the instant (epoch ms) its samples are stamped with. */
  freeze(): number;
  close(): Promise<void>;
}

interface Body {
  readonly text: string;
  readonly type: string;
  readonly at: number;
}

/** `body` with every sample stamped `at` (epoch ms): milliseconds in the text format, seconds in OpenMetrics. */
function stamped(body: Body): string {
  const openMetrics = body.type.startsWith('application/openmetrics-text');
  const stamp = openMetrics ? (body.at / 1000).toFixed(3) : String(body.at);
  return body.text
    .split('\n')
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line;
      if (openMetrics && line.includes(' # ')) throw new Error(`an exemplar cannot be stamped: ${line}`);
      return `${line} ${stamp}`;
    })
    .join('\n');
}

/** Starts a freezable target in front of `target` (the app's /metrics URL). */
export async function startFreezableTarget(target: string): Promise<FreezableTarget> {
  let last: Body | undefined;
  let frozen: { readonly text: string; readonly type: string } | undefined;
  const server: Server = createServer((request, response) => {
    if (frozen) {
      response.writeHead(200, { 'content-type': frozen.type }).end(frozen.text);
      return;
    }
    fetch(target, { headers: { accept: request.headers.accept ?? '*/*' } })
      .then(async (answer) => {
        const text = await answer.text();
        const type = answer.headers.get('content-type') ?? 'text/plain';
        if (answer.status === 200) last = { text, type, at: Date.now() };
        response.writeHead(answer.status, { 'content-type': type }).end(text);
      })
      .catch((error: Error) => response.writeHead(502).end(error.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    freeze() {
      if (!last) throw new Error(`${target} was never scraped through the freezable target`);
      frozen = { text: stamped(last), type: last.type };
      return last.at;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
