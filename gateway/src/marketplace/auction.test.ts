import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCandidates, gspPrice, runAuction, type Candidate } from './auction.js';

const c = (listingId: string, bid: number, quality = 1, createdAt = 0): Candidate => ({
  listingId,
  bid,
  quality,
  createdAt,
});

describe('runAuction', () => {
  it('ranks by bid × quality, not by bid alone', () => {
    const decision = runAuction([c('a', 1000, 0.5), c('b', 600, 1), c('c', 800, 1)], 3, 100);
    expect(decision.slots.map((s) => s.listingId)).toEqual(['c', 'b', 'a']);
  });

  it('prices each slot by generalised second price, the last by the next unplaced listing', () => {
    // Scores: a 2000, b 1200, c 800, d 300. Two slots.
    const decision = runAuction(
      [c('a', 1000, 2), c('b', 1200, 1), c('c', 1600, 0.5), c('d', 300, 1)],
      2,
      100,
    );
    expect(decision.slots).toEqual([
      // a must keep 2000 ≥ 1200: bid ≥ 600.
      { slot: 1, listingId: 'a', bid: 1000, quality: 2, score: 2000, price: 600, pricedBy: 'b' },
      // b must keep ≥ c's 800: bid ≥ 800 (c is ranked third, unplaced, and still sets the price).
      { slot: 2, listingId: 'b', bid: 1200, quality: 1, score: 1200, price: 800, pricedBy: 'c' },
    ]);
    expect(decision.ranked).toBe(4);
  });

  it('charges the reserve when nobody is below, and when the next score asks less', () => {
    expect(runAuction([c('a', 500)], 3, 150).slots[0]?.price).toBe(150);
    const low = runAuction([c('a', 500), c('b', 120, 1)], 1, 150).slots[0];
    expect(low).toMatchObject({ price: 150, pricedBy: 'reserve' });
  });

  it('leaves out listings bidding under the reserve', () => {
    const decision = runAuction([c('a', 99), c('b', 100)], 3, 100);
    expect(decision.slots.map((s) => s.listingId)).toEqual(['b']);
    expect(decision.ranked).toBe(1);
  });

  it('rounds the price up to the minor unit so the position is really kept', () => {
    // b's score 1000 / a's quality 3 = 333.33…: 333 would lose the slot, 334 keeps it.
    expect(gspPrice(c('a', 900, 3), c('b', 1000, 1), 0).price).toBe(334);
    // Exact divisions do not round up through float noise.
    expect(gspPrice(c('a', 900, 0.1 * 3), c('b', 90, 0.1 * 3), 0).price).toBe(90);
  });

  it('breaks equal scores by bid, then age, then id', () => {
    const decision = runAuction([c('z', 500, 1, 5), c('y', 500, 1, 1), c('x', 250, 2, 0)], 3, 0);
    expect(decision.slots.map((s) => s.listingId)).toEqual(['y', 'z', 'x']);
  });

  it('never charges more than the bid nor less than the reserve, and keeps every position (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            bid: fc.integer({ min: 1, max: 1_000_000 }),
            quality: fc.double({ min: 0.1, max: 4, noNaN: true }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 5000 }),
        (bids, slots, reserve) => {
          const candidates = bids.map((b, i) => c(`l${i}`, b.bid, b.quality, i));
          const decision = runAuction(candidates, slots, reserve);
          const sorted = candidates
            .filter((x) => x.bid >= reserve)
            .sort(compareCandidates)
            .slice(0, slots);
          expect(decision.slots.map((s) => s.listingId)).toEqual(sorted.map((s) => s.listingId));
          decision.slots.forEach((s, i) => {
            expect(s.price).toBeLessThanOrEqual(s.bid);
            expect(s.price).toBeGreaterThanOrEqual(Math.min(reserve, s.bid));
            const next = candidates.filter((x) => x.bid >= reserve).sort(compareCandidates)[i + 1];
            // Paying its price, the listing still scores at least the next one.
            if (next && s.price < s.bid)
              expect(s.price * s.quality).toBeGreaterThanOrEqual(next.bid * next.quality - 1e-6);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
