import { afterEach, describe, expect, it, vi } from 'vitest';
import { FRAME_MS, MAX_CATCH_UP, Pacer } from './pacer.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('Pacer', () => {
  it('ticks every 20 ms on a fixed grid, one timer for every subscriber', () => {
    vi.useFakeTimers();
    let now = 0;
    const pacer = new Pacer({ now: () => now });
    const a: number[] = [];
    const b: number[] = [];
    pacer.subscribe((t) => a.push(t));
    pacer.subscribe((t) => b.push(t));
    for (let i = 0; i < 10; i += 1) {
      now += FRAME_MS;
      vi.advanceTimersByTime(FRAME_MS);
    }
    expect(a).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b).toEqual(a);
    expect(vi.getTimerCount()).toBe(1);
    expect(pacer.stats().lateTicks).toBe(0);
    pacer.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs the missed ticks after a stall, skips beyond the catch-up window, and counts them', () => {
    vi.useFakeTimers();
    let now = 0;
    const late: number[] = [];
    const pacer = new Pacer({ now: () => now, onLate: (l, s) => late.push(l, s) });
    const ticks: number[] = [];
    pacer.subscribe((t) => ticks.push(t));
    now = 3 * FRAME_MS + 5; // the loop was blocked: ticks 1-3 are due at once
    vi.advanceTimersByTime(FRAME_MS);
    expect(ticks).toEqual([1, 2, 3]);
    now = 20 * FRAME_MS; // a long stall: 17 ticks due, the oldest skipped
    vi.advanceTimersByTime(FRAME_MS);
    expect(ticks.slice(3)).toHaveLength(MAX_CATCH_UP);
    expect(ticks.at(-1)).toBe(20);
    expect(pacer.stats().skippedTicks).toBe(17 - MAX_CATCH_UP);
    expect(pacer.stats().lateTicks).toBeGreaterThan(0);
    expect(late.length).toBeGreaterThan(0);
    pacer.close();
  });

  it('stops its timer when the last subscriber leaves, even from inside a tick', () => {
    vi.useFakeTimers();
    let now = 0;
    const pacer = new Pacer({ now: () => now });
    const leave = pacer.subscribe(() => leave());
    now += FRAME_MS;
    vi.advanceTimersByTime(FRAME_MS);
    expect(vi.getTimerCount()).toBe(0);
    // A new subscriber starts the clock again, with one timer.
    const again = pacer.subscribe(() => {});
    expect(vi.getTimerCount()).toBe(1);
    again();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps ticking when a subscriber throws', () => {
    vi.useFakeTimers();
    let now = 0;
    const errors: unknown[] = [];
    const pacer = new Pacer({ now: () => now, onError: (e) => errors.push(e) });
    const ticks: number[] = [];
    pacer.subscribe(() => {
      throw new Error('bug');
    });
    pacer.subscribe((t) => ticks.push(t));
    now += 2 * FRAME_MS;
    vi.advanceTimersByTime(2 * FRAME_MS);
    expect(ticks).toEqual([1, 2]);
    expect(errors).toHaveLength(2);
    pacer.close();
  });
});
