import { describe, expect, it } from 'vitest';
import { newRebindKey, sameRebindKey } from './rebind.js';

describe('rebind keys', () => {
  it('are unguessable and header-safe, and only the same key matches', () => {
    const key = newRebindKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newRebindKey()).not.toBe(key);
    expect(sameRebindKey(key, key)).toBe(true);
    expect(sameRebindKey(key, ` ${key} `)).toBe(true); // header whitespace
    expect(sameRebindKey(key, newRebindKey())).toBe(false);
    expect(sameRebindKey(key, key.slice(1))).toBe(false);
    expect(sameRebindKey(key, '')).toBe(false);
    expect(sameRebindKey(key, undefined)).toBe(false);
  });
});
