import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drained } from './drained.js';

/** A stream whose reader has stopped: its buffer is full after one write. */
function full(): PassThrough {
  const out = new PassThrough({ highWaterMark: 4 });
  expect(out.write('more than four bytes')).toBe(false);
  return out;
}

describe('drained', () => {
  it('resolves true once the reader takes the buffer', async () => {
    const out = full();
    const waiting = drained(out);
    out.resume();
    expect(await waiting).toBe(true);
  });

  it('resolves false when the stream closes before it drains (the client went away)', async () => {
    const out = full();
    const waiting = drained(out);
    out.destroy();
    expect(await waiting).toBe(false);
    expect(out.listenerCount('drain')).toBe(0);
  });

  it('answers at once for a stream that needs no drain, or is gone', async () => {
    expect(await drained(new PassThrough())).toBe(true);
    const gone = new PassThrough();
    gone.destroy();
    expect(await drained(gone)).toBe(false);
  });
});
