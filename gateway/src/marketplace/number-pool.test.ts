import { describe, expect, it } from 'vitest';
import { TrackingNumberPool } from './number-pool.js';

const numbers = ['+15551000', '+15551001', '+15551002'];

describe('TrackingNumberPool', () => {
  it('leases each number once until its lease ends, then reports exhaustion', () => {
    const pool = new TrackingNumberPool(numbers, 60, [], 0);
    const leases = [pool.lease(0), pool.lease(1), pool.lease(2)];
    expect(leases.map((l) => l?.number)).toEqual(numbers);
    expect(leases[0]).toEqual({ number: '+15551000', start: 0, end: 60_000 });
    expect(pool.lease(3)).toBeUndefined();
    expect(pool.leasedAt(3)).toBe(3);
  });

  it('frees a number when its lease expires', () => {
    const pool = new TrackingNumberPool(numbers, 60, [], 0);
    pool.lease(0);
    pool.lease(10_000);
    pool.lease(20_000);
    expect(pool.lease(59_999)).toBeUndefined();
    expect(pool.lease(60_000)?.number).toBe('+15551000');
    expect(pool.leasedAt(70_000)).toBe(2);
  });

  it('hands out the least recently used number first', () => {
    const pool = new TrackingNumberPool(numbers, 60, [], 0);
    pool.lease(0); // 1000 until 60 s
    pool.lease(5_000); // 1001 until 65 s
    // 1002 was never leased: it goes first, before the released ones.
    expect(pool.lease(100_000)?.number).toBe('+15551002');
    // Then 1000 (released at 60 s) before 1001 (released at 65 s).
    expect(pool.lease(100_001)?.number).toBe('+15551000');
    expect(pool.lease(100_002)?.number).toBe('+15551001');
  });

  it('keeps running leases and the LRU order across a restart', () => {
    const pool = new TrackingNumberPool(
      numbers,
      60,
      [
        { number: '+15551000', end: 50_000 },
        { number: '+15551001', end: 130_000 },
        { number: '+15551002', end: 40_000 },
      ],
      100_000,
    );
    expect(pool.leasedAt(100_000)).toBe(1);
    expect(pool.lease(100_000)?.number).toBe('+15551002');
    expect(pool.lease(100_000)?.number).toBe('+15551000');
    expect(pool.lease(100_000)).toBeUndefined();
    expect(pool.lease(130_000)?.number).toBe('+15551001');
  });

  it('stays O(1) over many leases (the queue compacts)', () => {
    const pool = new TrackingNumberPool(
      Array.from({ length: 100 }, (_, i) => `+1555200${String(i).padStart(4, '0')}`),
      1,
      [],
      0,
    );
    let t = 0;
    let leased = 0;
    for (let i = 0; i < 20_000; i += 1) {
      t += 10;
      if (pool.lease(t)) leased += 1;
    }
    expect(leased).toBe(20_000);
    expect(pool.leasedAt(t)).toBe(100);
  });
});
