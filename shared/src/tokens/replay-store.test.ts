import { describe, expect, it } from 'vitest';
import { MemoryReplayStore } from './replay-store.js';

describe('MemoryReplayStore', () => {
  it('takes an id once; with a use, the same use again but no other', async () => {
    let now = 1_000;
    const store = new MemoryReplayStore({ now: () => now });
    expect(await store.consume('plain', 5_000)).toBe(true);
    expect(await store.consume('plain', 5_000)).toBe(false);
    expect(await store.consume('plain', 5_000, 'call-1')).toBe(false);
    expect(await store.consume('bound', 5_000, 'call-1')).toBe(true);
    expect(await store.consume('bound', 5_000, 'call-1')).toBe(true);
    expect(await store.consume('bound', 5_000, 'call-2')).toBe(false);
    expect(await store.consume('bound', 5_000)).toBe(false);
    now = 6_000;
    expect(await store.consume('bound', 9_000, 'call-2')).toBe(true);
  });

  it('takes the same use again only within 32 s of the first (a failover, not a copy later)', async () => {
    let now = 0;
    const store = new MemoryReplayStore({ now: () => now });
    expect(await store.consume('t', 300_000, 'call-1')).toBe(true);
    now = 32_000;
    expect(await store.consume('t', 300_000, 'call-1')).toBe(true);
    now = 32_001;
    expect(await store.consume('t', 300_000, 'call-1')).toBe(false);
  });
});
