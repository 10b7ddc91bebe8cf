import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LegMedia, RecordResult } from '../../media/apps/index.js';
import { CallerRecording, dbfs } from './recording.js';

/** A leg's media as a recording uses it: one recorder, one level feed, both by hand. */
class FakeMedia {
  readonly codec = { sampleRate: 8000 };
  recordOptions: unknown;
  feedOptions: unknown;
  readonly levels = new PassThrough();
  feedClosed = false;
  stopped = false;
  #resolve: (result: RecordResult) => void = () => undefined;
  readonly done = new Promise<RecordResult>((resolve) => (this.#resolve = resolve));

  record(options: unknown) {
    this.recordOptions = options;
    return {
      done: this.done,
      stop: () => {
        this.stopped = true;
        this.finish({ reason: 'stopped', durationMs: 1500 });
        return this.done;
      },
    };
  }

  feed(options: unknown) {
    this.feedOptions = options;
    return {
      readable: this.levels,
      close: () => {
        this.feedClosed = true;
      },
    };
  }

  finish(result: Partial<RecordResult>): void {
    this.#resolve({ files: {}, sampleRate: 8000, durationMs: 0, ...result } as RecordResult);
  }
}

/** `n` samples of a constant `value`, s16le. */
function frame(value: number, n = 160): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i += 1) b.writeInt16LE(value, i * 2);
  return b;
}

async function start(media: FakeMedia, path?: string) {
  const dir = await mkdtemp(join(tmpdir(), 'parley-rec-test-'));
  const file = path ?? join(dir, 'acme', 'call-1.wav');
  const recording = await CallerRecording.start(
    media as unknown as LegMedia,
    {
      path: file,
      signal: new AbortController().signal,
    } as Parameters<typeof CallerRecording.start>[1],
  );
  return { recording, file, dir };
}

describe('dbfs', () => {
  it('measures a 20 ms frame’s RMS level in dBFS, -90 for silence or nothing', () => {
    expect(dbfs(Buffer.alloc(0))).toBe(-90);
    expect(dbfs(frame(0))).toBe(-90);
    expect(dbfs(frame(32767))).toBeCloseTo(0, 3);
    expect(dbfs(frame(-16384))).toBeCloseTo(-6.02, 2);
    expect(dbfs(frame(1))).toBe(-90); // below -90 dBFS: clamped
  });
});

describe('CallerRecording', () => {
  it('records the caller’s direction to the path (its directory made) and reports each frame’s level', async () => {
    const media = new FakeMedia();
    const { recording, file } = await start(media);
    expect(media.recordOptions).toMatchObject({ files: { in: file } });
    // Levels at the codec's own rate, without the noise a recogniser needs.
    expect(media.feedOptions).toEqual({ sampleRate: 8000, direction: 'in', highBandNoise: false });
    const levels: number[] = [];
    recording.on('level', (level) => levels.push(Math.round(level)));
    media.levels.write(frame(0));
    media.levels.write(frame(16384));
    await new Promise((resolve) => setImmediate(resolve));
    expect(levels).toEqual([-90, -6]);
    await writeFile(file, Buffer.alloc(4044));
    expect(await recording.stop()).toEqual({ path: file, durationMs: 1500, bytes: 4044 });
    expect(media.feedClosed).toBe(true);
    // Stopping twice gives the same result.
    expect(await recording.stop()).toEqual({ path: file, durationMs: 1500, bytes: 4044 });
  });

  it('a recorder that fails (a full disk) emits recording_failed to a listener; unheard, nothing throws', async () => {
    const media = new FakeMedia();
    const { recording } = await start(media);
    const failed = new Promise<Error>((resolve) => recording.once('error', resolve));
    media.finish({ reason: 'error', error: new Error('ENOSPC: no space left on device') });
    const error = await failed;
    expect(error).toMatchObject({ code: 'recording_failed' });
    expect(error.message).toMatch(/ENOSPC/);
    expect(media.feedClosed).toBe(true);

    const quiet = new FakeMedia();
    await start(quiet);
    quiet.finish({ reason: 'error' });
    await quiet.done;
  });

  it('a file that was never written counts 0 bytes', async () => {
    const media = new FakeMedia();
    const { recording } = await start(media);
    expect((await recording.stop()).bytes).toBe(0);
  });

  it('refuses with recording_failed when the directory cannot be made', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-rec-test-'));
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    await expect(start(new FakeMedia(), join(blocker, 'call.wav'))).rejects.toMatchObject({
      code: 'recording_failed',
    });
  });
});
