import { describe, expect, it } from 'vitest';
import { checkCallerNumberClaim, callerNumberClaim } from './caller-number-claim.js';
import { NumberRanges, rangeProblem } from './number-ranges.js';

describe('NumberRanges', () => {
  const ranges = new NumberRanges([
    { from: '+14155550100', to: '+14155550199' },
    { from: '+442079460000', to: '+442079460009' },
  ]);

  it('matches by value inside blocks of the same length', () => {
    expect(ranges.indexOf('+14155550100')).toBe(0);
    expect(ranges.indexOf('+14155550199')).toBe(0);
    expect(ranges.indexOf('+442079460005')).toBe(1);
    expect(ranges.has('+14155550200')).toBe(false);
    expect(ranges.has('+1415555010')).toBe(false);
    expect(ranges.has('14155550100')).toBe(false);
  });

  it('finds overlaps and says what is wrong with a block', () => {
    expect(ranges.overlaps(new NumberRanges([{ from: '+14155550199', to: '+14155550299' }]))).toBe(
      true,
    );
    expect(ranges.overlaps(new NumberRanges([{ from: '+15550100', to: '+15550198' }]))).toBe(false);
    expect(rangeProblem({ from: '+1', to: 'x' })).toMatch(/E\.164/);
    expect(rangeProblem({ from: '+14155550199', to: '+14155550100' })).toMatch(/order/);
    expect(() => new NumberRanges([{ from: '+1415', to: '+14155550100' }])).toThrow(/length/);
  });
});

describe('callerNumber claims', () => {
  const ranges = new NumberRanges([{ from: '+14155550100', to: '+14155550199' }]);

  it('takes the private claim first, then the public one', () => {
    const claims = { callerNumber: '+14155550101' } as never;
    expect(callerNumberClaim({ claims, privateClaims: { callerNumber: '+14155550102' } })).toBe(
      '+14155550102',
    );
    expect(callerNumberClaim({ claims, privateClaims: {} })).toBe('+14155550101');
    expect(callerNumberClaim({ claims: {} as never, privateClaims: {} })).toBeUndefined();
  });

  it('accepts only E.164 inside the blocks', () => {
    expect(checkCallerNumberClaim('+14155550150', ranges)).toEqual({
      ok: true,
      number: '+14155550150',
    });
    expect(checkCallerNumberClaim('+1 415 555 0150', ranges)).toEqual({
      ok: false,
      reason: 'not_e164',
    });
    expect(checkCallerNumberClaim('+14155550250', ranges)).toEqual({
      ok: false,
      reason: 'outside_ranges',
    });
    expect(checkCallerNumberClaim('+14155550150', undefined)).toEqual({
      ok: false,
      reason: 'no_ranges',
    });
  });
});
