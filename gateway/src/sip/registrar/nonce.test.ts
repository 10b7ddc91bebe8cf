import { describe, expect, it } from 'vitest';
import { NonceFactory } from './nonce.js';

describe('NonceFactory', () => {
  it('accepts its own fresh nonces, calls old ones stale and refuses foreign ones', () => {
    let now = 1_000_000;
    const nonces = new NonceFactory({ maxAgeMs: 60_000, now: () => now });
    const nonce = nonces.create();
    expect(nonces.check(nonce)).toBe('valid');
    now += 61_000;
    expect(nonces.check(nonce)).toBe('stale');
    expect(new NonceFactory().check(nonce)).toBe('invalid');
    expect(nonces.check(`${nonce}x`)).toBe('invalid');
    expect(nonces.check('garbage')).toBe('invalid');
  });
});
