import { describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY, qualityOf } from './quality.js';

describe('qualityOf', () => {
  it('starts neutral at 1 with no calls', () => {
    expect(qualityOf(undefined, DEFAULT_QUALITY)).toEqual({
      score: 1,
      answerRate: 0.5,
      qualificationRate: 0.5,
    });
  });

  it('moves a new listing only a little on one bad call, a lot on many', () => {
    const one = qualityOf({ calls: 1, answered: 0, qualified: 0 }, DEFAULT_QUALITY).score;
    const many = qualityOf({ calls: 100, answered: 0, qualified: 0 }, DEFAULT_QUALITY).score;
    expect(one).toBeCloseTo((5 / 11 / 0.25) * 0.5, 6);
    expect(one).toBeGreaterThan(0.8);
    expect(many).toBe(DEFAULT_QUALITY.min);
  });

  it('rewards answered and qualified calls, up to 1/(A0·Q0)', () => {
    const good = qualityOf({ calls: 1000, answered: 1000, qualified: 1000 }, DEFAULT_QUALITY);
    expect(good.score).toBeGreaterThan(3.9);
    expect(good.score).toBeLessThanOrEqual(4);
    const answeredNotQualified = qualityOf(
      { calls: 100, answered: 100, qualified: 0 },
      DEFAULT_QUALITY,
    );
    expect(answeredNotQualified.score).toBeLessThan(1);
  });
});
