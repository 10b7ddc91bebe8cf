import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../observability/index.js';
import { AudioCache } from './audio-cache.js';

const logger = createLogger('silent');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-audio-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A valid WAV of `samples` zero samples at 8 kHz. */
function wavBytes(samples: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples * 2, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples * 2, 40);
  return Buffer.concat([header, Buffer.alloc(samples * 2)]);
}

const hoursAgo = (hours: number): Date => new Date(Date.now() - hours * 3_600_000);

describe('AudioCache', () => {
  it('stores through a temporary file and finds the result', async () => {
    const cache = new AudioCache({ dir, maxBytes: 1 << 20, logger });
    expect(await cache.lookup('a.wav')).toBeUndefined();
    await cache.store('a.wav', async (tmp) => {
      expect(tmp.startsWith(join(dir, '.tmp-'))).toBe(true);
      writeFileSync(tmp, wavBytes(100));
      expect(existsSync(join(dir, 'a.wav'))).toBe(false);
    });
    expect((await cache.lookup('a.wav'))?.dataBytes).toBe(200);
    expect(readdirSync(dir)).toEqual(['a.wav']);
  });

  it('leaves no temporary file when the writer fails', async () => {
    const cache = new AudioCache({ dir, maxBytes: 1 << 20, logger });
    await expect(
      cache.store('b.wav', async (tmp) => {
        writeFileSync(tmp, 'half');
        throw new Error('synthesiser died');
      }),
    ).rejects.toThrow('synthesiser died');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replaces a damaged or truncated file instead of serving it', async () => {
    writeFileSync(join(dir, 'bad.wav'), 'not audio');
    writeFileSync(join(dir, 'short.wav'), wavBytes(100).subarray(0, 100));
    const cache = new AudioCache({ dir, maxBytes: 1 << 20, logger });
    expect(await cache.lookup('bad.wav')).toBeUndefined();
    expect(await cache.lookup('short.wav')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes temporary files a dead writer left, but not a live one’s', async () => {
    writeFileSync(join(dir, '.tmp-1-old.wav'), 'x');
    utimesSync(join(dir, '.tmp-1-old.wav'), hoursAgo(1), hoursAgo(1));
    writeFileSync(join(dir, '.tmp-2-new.wav'), 'x');
    await new AudioCache({ dir, maxBytes: 1 << 20, logger }).lookup('none.wav');
    expect(readdirSync(dir)).toEqual(['.tmp-2-new.wav']);
  });

  it('prunes the least recently used files past its size, never recently used ones', async () => {
    for (const [name, age] of [
      ['old.wav', 5],
      ['older.wav', 9],
      ['recent.wav', 0],
    ] as const) {
      writeFileSync(join(dir, name), wavBytes(1000));
      utimesSync(join(dir, name), hoursAgo(age), hoursAgo(age));
    }
    // Three files of 2044 bytes; room for two once the new one is stored.
    const cache = new AudioCache({ dir, maxBytes: 5000, logger });
    await cache.store('new.wav', async (tmp) => writeFileSync(tmp, wavBytes(1000)));
    expect(readdirSync(dir).sort()).toEqual(['new.wav', 'recent.wav']);
  });
});
