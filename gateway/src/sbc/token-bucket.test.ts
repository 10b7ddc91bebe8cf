import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket.js';

describe('TokenBuckets', () => {
  it('lets a burst through, then the steady rate', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 2, burst: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([true, true, true, false]);
    expect(buckets.take('b')).toBe(true);
    now += 500;
    expect(buckets.take('a')).toBe(true);
    expect(buckets.take('a')).toBe(false);
  });

  it('stays within maxKeys', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 1000; i += 1) buckets.take(`k${i}`);
    expect(buckets.size).toBeLessThanOrEqual(100);
  });
});
