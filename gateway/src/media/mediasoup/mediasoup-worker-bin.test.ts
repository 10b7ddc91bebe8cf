/**
 * A worker binary that is not Parley's is refused with a clear error, and the
 * default engine (`auto`) then runs the relay engine. Its own file: mediasoup
 * takes one worker binary per process, when first loaded.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PortAllocator } from '@parley/testkit';
import { createMediaEngine } from '../engine-loader.js';

const logger = pino({ level: 'silent' });
const portAllocator = new PortAllocator();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('mediasoup engine: which worker', () => {
  it('refuses a worker binary that is not one, and auto then runs the relay engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-worker-'));
    const fake = join(dir, 'mediasoup-worker');
    writeFileSync(fake, '#!/bin/sh\nexit 1\n');
    chmodSync(fake, 0o755);
    const media = await portAllocator.allocate(4, { protocols: ['udp'], even: true });
    const webrtc = await portAllocator.allocate(4, { protocols: ['udp'] });
    cleanups.push(
      () => media.release(),
      () => webrtc.release(),
    );
    const options = {
      address: '127.0.0.1',
      portMin: media.base,
      portMax: media.base + media.size - 1,
      webrtcPortMin: webrtc.base,
      webrtcPortMax: webrtc.base + webrtc.size - 1,
      logger,
      mediasoup: { workerBin: fake },
    };
    await expect(createMediaEngine('mediasoup', options)).rejects.toMatchObject({
      code: 'invalid_config',
    });
    const auto = await createMediaEngine('auto', options);
    cleanups.push(() => auto.close());
    expect(auto.kind).toBe('relay');
    await expect(
      createMediaEngine('mediasoup', { ...options, mediasoup: { workerBin: join(dir, 'none') } }),
    ).rejects.toThrow(/no mediasoup 3\.19\.3 worker found/);
  });
});
