/**
 * tests/support/ports.ts: ports come from below the kernel's ephemeral range, each can be bound, and none is
 * handed out twice, even to calls made at once.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './ports';

describe('freePort', () => {
  it('gives distinct bindable ports below the ephemeral range, also to calls made at once', async () => {
    const ports = await Promise.all(Array.from({ length: 100 }, () => freePort()));
    expect(new Set(ports).size).toBe(100);
    const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    expect(ports.filter((port) => port < 10_000 || port >= ephemeral)).toEqual([]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    expect((server.address() as { port: number }).port).toBe(ports[0]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
