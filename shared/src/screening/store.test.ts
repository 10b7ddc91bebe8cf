import { describe, expect, it } from 'vitest';
import { MemoryScreeningStore } from './store.js';

describe('MemoryScreeningStore.hit (sliding window)', () => {
  it('allows max hits per window and answers when the oldest leaves it', () => {
    const store = new MemoryScreeningStore();
    expect(store.hit('k', 2, 10_000, 1_000)).toEqual({ ok: true });
    expect(store.hit('k', 2, 10_000, 4_000)).toEqual({ ok: true });
    expect(store.hit('k', 2, 10_000, 5_000)).toEqual({ ok: false, retryAfterMs: 6_000 });
    // The first hit leaves the window at 11 000; the refused hit was not recorded.
    expect(store.hit('k', 2, 10_000, 11_000)).toEqual({ ok: true });
    expect(store.hit('k', 2, 10_000, 11_500)).toEqual({ ok: false, retryAfterMs: 2_500 });
  });

  it('keeps keys apart', () => {
    const store = new MemoryScreeningStore();
    expect(store.hit('a', 1, 1_000, 0).ok).toBe(true);
    expect(store.hit('b', 1, 1_000, 0).ok).toBe(true);
    expect(store.hit('a', 1, 1_000, 1).ok).toBe(false);
  });
});

describe('MemoryScreeningStore.reserve', () => {
  it('holds max slots until they expire, renews a held id and frees on release', () => {
    const store = new MemoryScreeningStore();
    expect(store.reserve('s', 'a', 2, 60_000, 0)).toEqual({ ok: true });
    expect(store.reserve('s', 'b', 2, 30_000, 0)).toEqual({ ok: true });
    expect(store.reserve('s', 'c', 2, 60_000, 1_000)).toEqual({ ok: false, retryAfterMs: 29_000 });
    expect(store.reserve('s', 'a', 2, 10_000, 1_000)).toEqual({ ok: true });
    expect(store.reserve('s', 'c', 2, 60_000, 10_000)).toEqual({ ok: true });
    store.release('s', 'b');
    expect(store.reserve('s', 'd', 2, 60_000, 10_001)).toEqual({ ok: true });
  });
});

describe('MemoryScreeningStore memory', () => {
  it('forgets expired entries in its periodic sweep', () => {
    const store = new MemoryScreeningStore({ sweepIntervalMs: 1_000 });
    for (let i = 0; i < 50; i += 1) store.hit(`ip:${i}`, 5, 500, 0);
    store.reserve('outstanding:s', 'jti', 1, 800, 0);
    expect(store.size).toBe(51);
    store.hit('other', 5, 500, 2_000);
    expect(store.size).toBe(1);
  });

  it('never holds more than maxKeys keys', () => {
    const store = new MemoryScreeningStore({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i += 1) store.hit(`ip:${i}`, 5, 60_000, i);
    expect(store.size).toBe(100);
    // The most recently used keys survive.
    expect(store.hit('ip:999', 1, 60_000, 1_000).ok).toBe(false);
  });

  it('refuses a bad maxKeys', () => {
    expect(() => new MemoryScreeningStore({ maxKeys: 0 })).toThrow(RangeError);
  });
});
