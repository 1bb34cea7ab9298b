/**
 * Free loopback ports for the servers tests start (Prometheus, the Collector, Redis, the apps' own ports). Two
 * ways a port chosen by binding port 0 and closing at once was lost before the server bound it:
 * - the same port handed out twice: the kernel may give a just-closed port to the next bind of port 0, and four
 *   Collectors started together choose twenty ports (a push-paths run failed with "bind: address already in use");
 * - an outgoing connection of a test running beside it taking the port as its source port: those come from the
 *   kernel's ephemeral range (ip_local_port_range), where port 0 binds come from too.
 * So ports come from below the ephemeral range, each is checked by binding it, and none is handed out twice by
 * this process (the fleet, tests/fleet/fleet.ts, chooses its ~40 ports from the same range, holding each until all
 * are chosen).
 *
 * Owns: choosing ports. Must not touch: the servers.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOW = 10_000;
const handedOut = new Set<number>();

function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    return Number.isInteger(start) && start > LOW + 1_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}
const HIGH = ephemeralStart() - 1;

/** Loopback ports tests may choose: from 10,000 to just below the kernel's ephemeral range. */
export const PORT_RANGE: { readonly low: number; readonly high: number } = { low: LOW, high: HIGH };

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port nothing listens on, below the ephemeral range, never returned before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${LOW}-${HIGH} after 1000 tries`);
}
