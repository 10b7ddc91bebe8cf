import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dgram from 'node:dgram';

import { afterAll, describe, expect, it } from 'vitest';

import { PortAllocator, freePort } from './ports.js';

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

  it('freePort gives a bindable port', async () => {
    const port = await freePort('udp');
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port }, resolve));
    socket.close();
  });
});
