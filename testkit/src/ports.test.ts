import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dgram from 'node:dgram';
import * as net from 'node:net';

import { afterAll, describe, expect, it } from 'vitest';

import { PortAllocator, freePort } from './ports.js';
import { portInUse, portListening } from './socket-table.js';

const lockDir = mkdtempSync(join(tmpdir(), 'parley-ports-test-'));
afterAll(() => rm(lockDir, { recursive: true, force: true }));

describe('ports', () => {
  it('never hands out the same port twice, even to separate allocators at once', async () => {
    const a = new PortAllocator({ lockDir, min: 24000, max: 24199 });
    const b = new PortAllocator({ lockDir, min: 24000, max: 24199 });
    const blocks = await Promise.all(
      Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).allocate(4)),
    );
    const ports = blocks.flatMap((block) => block.ports);
    expect(new Set(ports).size).toBe(ports.length);
    expect(blocks.every((block) => block.base % 2 === 0)).toBe(true);
    expect(existsSync(join(lockDir, String(ports[0])))).toBe(true);
    blocks[0]?.release();
    expect(existsSync(join(lockDir, String(blocks[0]?.base)))).toBe(false);
    a.close();
    b.close();
  });

  it('skips ports something else is bound to', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) =>
      socket.bind({ address: '127.0.0.1', port: 24300 }, resolve),
    );
    const allocator = new PortAllocator({ lockDir, min: 24300, max: 24301 });
    const block = await allocator.allocate(1, { protocols: ['udp'], even: false });
    expect(block.base).toBe(24301);
    allocator.close();
    socket.close();
  });

  it('skips a port a closed connection keeps in TIME_WAIT (sipp could not bind it)', async () => {
    // The server closes first, so its side of the connection (local port 24310)
    // goes to TIME_WAIT; Node's own listen there would still succeed (SO_REUSEADDR).
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) =>
      server.listen({ host: '127.0.0.1', port: 24310 }, resolve),
    );
    const client = net.connect({ host: '127.0.0.1', port: 24310 });
    await new Promise<void>((resolve) => client.on('end', resolve).resume());
    client.end();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect.poll(() => portInUse('tcp', 24310)).toBe(true);
    expect(portListening('tcp', 24310)).toBe(false);

    const allocator = new PortAllocator({ lockDir, min: 24310, max: 24311 });
    for (let i = 0; i < 5; i++) {
      const block = await allocator.allocate(1, { protocols: ['tcp'], even: false });
      expect(block.base).toBe(24311);
      block.release();
    }
    allocator.close();
  });

  it('freePort gives a bindable port', async () => {
    const port = await freePort('udp');
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port }, resolve));
    socket.close();
  });
});
