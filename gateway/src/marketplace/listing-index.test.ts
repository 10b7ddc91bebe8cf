import { describe, expect, it } from 'vitest';
import { ListingIndex, regionChain } from './listing-index.js';
import type { Listing } from './model.js';
import { DEFAULT_QUALITY } from './quality.js';
import { ZonedClock } from './zoned-time.js';

const at = Date.UTC(2025, 0, 15, 14, 30); // Wednesday 14:30 UTC

const listing = (id: string, extra: Partial<Listing> = {}): Listing => ({
  id,
  tenant: 'acme',
  advertiserId: 'ad1',
  title: id,
  description: '',
  category: 'plumbing',
  region: 'US',
  schedule: null,
  destination: { kind: 'queue', queue: 'sales' },
  bid: 1000,
  dailyBudget: 5000,
  minConnectedSeconds: 60,
  staticNumber: null,
  status: 'active',
  pauseReason: null,
  pausedDay: null,
  createdAt: 0,
  updatedAt: 0,
  ...extra,
});

function index(...listings: Listing[]) {
  const i = new ListingIndex({
    clock: new ZonedClock(),
    timeZone: 'UTC',
    quality: DEFAULT_QUALITY,
  });
  i.setFunds('ad1', 1_000_000);
  for (const l of listings) i.upsert(l);
  return i;
}

describe('ListingIndex', () => {
  it('serves a region and its subregions, and * everywhere', () => {
    expect(regionChain('US-CA-SF')).toEqual(['US-CA-SF', 'US-CA', 'US', '*']);
    const i = index(
      listing('us'),
      listing('ca', { region: 'US-CA' }),
      listing('any', { region: '*' }),
      listing('fr', { region: 'FR' }),
    );
    const ids = (region: string) =>
      i
        .candidates('acme', 'plumbing', region, at)
        .eligible.map((c) => c.listingId)
        .sort();
    expect(ids('US-CA')).toEqual(['any', 'ca', 'us']);
    expect(ids('US-NY')).toEqual(['any', 'us']);
    expect(ids('*')).toEqual(['any']);
    expect(i.candidates('other', 'plumbing', 'US', at).eligible).toEqual([]);
  });

  it('leaves out paused, out-of-schedule, out-of-budget and unfunded listings, and says why', () => {
    const i = index(
      listing('ok'),
      listing('paused', { status: 'paused', pauseReason: 'manual' }),
      listing('closed', {
        schedule: { timeZone: 'UTC', windows: [{ days: ['mon'], from: '09:00', to: '17:00' }] },
      }),
      listing('spent'),
      listing('poor', { advertiserId: 'ad2' }),
    );
    i.setSpend('spent', '2025-01-15', 4500);
    i.setFunds('ad2', 999);
    const { eligible, excluded } = i.candidates('acme', 'plumbing', 'US', at);
    expect(eligible.map((c) => c.listingId)).toEqual(['ok']);
    expect(excluded).toEqual({
      paused: 1,
      outside_schedule: 1,
      daily_budget_exhausted: 1,
      insufficient_funds: 1,
    });
    // Yesterday's spend does not count today.
    i.setSpend('spent', '2025-01-14', 5000);
    expect(i.ineligibility('spent', at)).toBeUndefined();
  });

  it('lifts a budget pause on the next budget day', () => {
    const i = index(
      listing('b', {
        status: 'paused',
        pauseReason: 'daily_budget_exhausted',
        pausedDay: '2025-01-15',
      }),
    );
    expect(i.ineligibility('b', at)).toBe('daily_budget_exhausted');
    expect(i.ineligibility('b', at + 86_400_000)).toBeUndefined();
  });

  it('moves a listing when its category or region changes, and forgets an archived one', () => {
    const i = index(listing('x'));
    i.upsert(listing('x', { category: 'roofing' }));
    expect(i.candidates('acme', 'plumbing', 'US', at).eligible).toEqual([]);
    expect(i.candidates('acme', 'roofing', 'US', at).eligible).toHaveLength(1);
    i.upsert(listing('x', { category: 'roofing', status: 'archived' }));
    expect(i.candidates('acme', 'roofing', 'US', at).eligible).toEqual([]);
  });

  it('updates quality with every call counted', () => {
    const i = index(listing('q'));
    expect(i.quality('q')?.score).toBe(1);
    for (let n = 0; n < 10; n += 1) i.count('q', 'calls');
    expect(i.quality('q')?.score).toBeLessThan(0.6);
  });
});

describe('ListingIndex order', () => {
  it('walks each bucket best first and stops at the limit, and follows score changes', () => {
    const i = index(
      listing('a', { bid: 300 }),
      listing('b', { bid: 900 }),
      listing('c', { bid: 600 }),
      listing('d', { bid: 800, status: 'paused', pauseReason: 'manual' }),
    );
    const top = (limit: number) => i.candidates('acme', 'plumbing', 'US', at, limit);
    expect(top(2)).toEqual({
      eligible: [
        expect.objectContaining({ listingId: 'b' }),
        expect.objectContaining({ listingId: 'c' }),
      ],
      excluded: { paused: 1 },
    });
    // b's calls go unanswered: its quality falls below c's score.
    i.setStats('b', { calls: 100, answered: 0, qualified: 0 });
    expect(top(2).eligible.map((c) => c.listingId)).toEqual(['c', 'a']);
    i.upsert(listing('a', { bid: 5000 }));
    expect(top(1).eligible.map((c) => c.listingId)).toEqual(['a']);
  });
});
