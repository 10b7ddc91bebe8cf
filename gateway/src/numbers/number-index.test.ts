import { describe, expect, it } from 'vitest';
import { FreeQueue, NumberIndex } from './number-index.js';
import { expandRanges } from './session-number-pool.js';

describe('NumberIndex', () => {
  const ranges = [
    { from: '+15550198', to: '+15550201' },
    { from: '+4930000000', to: '+4930000002' },
  ];

  it('numbers the blocks in order, both ways, as expandRanges lists them', () => {
    const index = new NumberIndex(ranges);
    const listed = expandRanges(ranges);
    expect(index.size).toBe(listed.length);
    listed.forEach((n, i) => {
      expect(index.numberAt(i)).toBe(n);
      expect(index.indexOf(n)).toBe(i);
    });
  });

  it('keeps leading zeros and tells numbers outside the blocks', () => {
    const index = new NumberIndex([{ from: '+10000000', to: '+10000009' }]);
    expect(index.numberAt(3)).toBe('+10000003');
    expect(index.indexOf('+10000010')).toBe(-1);
    expect(index.indexOf('+1000000')).toBe(-1);
    expect(index.indexOf('10000001')).toBe(-1);
    expect(index.indexOf('+1000000x')).toBe(-1);
    expect(() => index.numberAt(10)).toThrow(RangeError);
  });

  it('refuses bad, overlapping and too large blocks', () => {
    expect(() => new NumberIndex([{ from: '15550100', to: '+15550102' }])).toThrow(/E\.164/);
    expect(() => new NumberIndex([{ from: '+15550102', to: '+15550100' }])).toThrow(/order/);
    expect(
      () =>
        new NumberIndex([
          { from: '+15550100', to: '+15550199' },
          { from: '+15550150', to: '+15550250' },
        ]),
    ).toThrow(/overlaps/);
    expect(() => new NumberIndex([{ from: '+15550000000', to: '+15551000000' }])).toThrow(
      /larger than/,
    );
  });
});

describe('FreeQueue', () => {
  it('gives indices back least recently queued first, with removal from anywhere', () => {
    const q = new FreeQueue(5);
    [0, 1, 2, 3, 4].forEach((i) => q.push(i));
    expect(q.delete(2)).toBe(true);
    expect(q.delete(2)).toBe(false);
    expect(q.shift()).toBe(0);
    q.push(0);
    q.push(1); // already queued: moves to the end
    expect(q.size).toBe(4);
    expect([q.shift(), q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([
      3,
      4,
      0,
      1,
      undefined,
    ]);
    expect(q.has(0)).toBe(false);
  });
});
