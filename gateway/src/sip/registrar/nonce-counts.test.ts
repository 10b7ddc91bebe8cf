import { describe, expect, it } from 'vitest';
import { NonceCounts } from './nonce-counts.js';

describe('NonceCounts', () => {
  it('takes each nonce count once, in any order, and a qop-less nonce once', () => {
    const counts = new NonceCounts({ ttlMs: 1000 });
    expect(counts.use('n1', '00000001', 0)).toBe(true);
    expect(counts.use('n1', '00000003', 0)).toBe(true);
    expect(counts.use('n1', '00000002', 0)).toBe(true);
    expect(counts.use('n1', '00000001', 0)).toBe(false);
    expect(counts.use('n2', undefined, 0)).toBe(true);
    expect(counts.use('n2', undefined, 0)).toBe(false);
    expect(counts.use('n2', '00000001', 0)).toBe(false);
  });

  it('forgets nonces after their lifetime and bounds what it keeps', () => {
    const counts = new NonceCounts({ ttlMs: 1000, maxNonces: 2, maxCountsPerNonce: 2 });
    counts.use('a', '00000001', 0);
    counts.use('a', '00000002', 0);
    expect(counts.use('a', '00000003', 0)).toBe(false);
    counts.use('b', '00000001', 0);
    counts.use('c', '00000001', 0);
    expect(counts.size).toBe(2);
    counts.sweep(1000);
    expect(counts.size).toBe(0);
  });
});
