import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SqliteSessionStore, openDatabase } from '../storage/index.js';
import { NumberRanges } from './number-ranges.js';
import { SessionNumberPool, expandRanges, type ClaimOutcome } from './session-number-pool.js';

function setup(size = 3, graceSeconds = 60) {
  let clock = 1_000_000;
  const db = openDatabase(':memory:');
  const store = new SqliteSessionStore(db);
  let exhausted = 0;
  const claims: ClaimOutcome[] = [];
  // The company's own block: +14155550100..+14155550199 (tenant acme only).
  const acmeRanges = new NumberRanges([{ from: '+14155550100', to: '+14155550199' }]);
  const make = () =>
    SessionNumberPool.load({
      config: {
        ranges: [{ from: '+15550100', to: `+155501${String(size - 1).padStart(2, '0')}` }],
        fallback: '+15550199',
        graceSeconds,
      },
      store,
      logger: pino({ level: 'silent' }),
      now: () => clock,
      onExhausted: () => (exhausted += 1),
      claimRanges: (tenant) => (tenant === 'acme' ? acmeRanges : undefined),
      onClaim: (outcome) => claims.push(outcome),
    });
  const touch = (sessionId: string) =>
    store.touch({
      tenant: 'acme',
      sessionId,
      origin: 'https://a.test',
      publicClaims: {} as never,
      privateClaims: {},
      at: clock,
    });
  return {
    make,
    store,
    touch,
    claims,
    advance: (ms: number) => (clock += ms),
    exhausted: () => exhausted,
  };
}

describe('expandRanges', () => {
  it('expands E.164 blocks and refuses bad ones', async () => {
    expect(expandRanges([{ from: '+15550100', to: '+15550102' }])).toEqual([
      '+15550100',
      '+15550101',
      '+15550102',
    ]);
    expect(() => expandRanges([{ from: '15550100', to: '+15550102' }])).toThrow(/E\.164/);
    expect(() => expandRanges([{ from: '+15550102', to: '+15550100' }])).toThrow(/order/);
    expect(() => expandRanges([{ from: '+1555', to: '+15550100' }])).toThrow(/length/);
  });
});

describe('SessionNumberPool', () => {
  it('gives each session its own number and the same one on every call', async () => {
    const { make, touch } = setup();
    const pool = await make();
    ['a', 'b'].forEach(touch);
    const a1 = pool.lease('acme', 'a');
    const b1 = pool.lease('acme', 'b');
    expect(a1.number).not.toBe(b1.number);
    expect(pool.lease('acme', 'a')).toEqual(a1);
    expect(pool.holder(a1.number)).toEqual({ tenant: 'acme', sessionId: 'a' });
  });

  it('keeps the number through the grace period and reuses it last', async () => {
    const { make, touch, advance } = setup(2, 60);
    const pool = await make();
    ['a', 'b', 'c'].forEach(touch);
    const a = pool.lease('acme', 'a').number;
    pool.release('acme', 'a', a);
    advance(59_000);
    expect(pool.holder(a)).toEqual({ tenant: 'acme', sessionId: 'a' });
    const b = pool.lease('acme', 'b').number;
    expect(b).not.toBe(a);
    pool.release('acme', 'b', b);
    advance(2_000); // a expired; b still in grace
    expect(pool.holder(a)).toBeUndefined();
    expect(pool.lease('acme', 'c').number).toBe(a);
  });

  it('falls back when exhausted, counts it, and never takes a number from a session in a call', async () => {
    const { make, touch, advance, exhausted } = setup(1, 1);
    const pool = await make();
    ['a', 'b'].forEach(touch);
    const a = pool.lease('acme', 'a');
    advance(10_000); // past grace, but the call is still up
    expect(pool.lease('acme', 'b')).toEqual({
      number: '+15550199',
      fallback: true,
      source: 'fallback',
    });
    expect(exhausted()).toBe(1);
    expect(pool.holder(a.number)).toEqual({ tenant: 'acme', sessionId: 'a' });
  });

  it('survives a restart with the same leases', async () => {
    const { make, touch, store } = setup();
    touch('a');
    const first = (await make()).lease('acme', 'a').number;
    const again = await make();
    expect(again.holder(first)).toEqual({ tenant: 'acme', sessionId: 'a' });
    expect(again.lease('acme', 'a').number).toBe(first);
    expect((await store.getByNumber(first))?.sessionId).toBe('a');
  });
});

describe('SessionNumberPool with callerNumber claims (S6)', () => {
  it("takes a claim inside the tenant's blocks and keeps it like a lease", async () => {
    const { make, touch, store, claims, advance } = setup(3, 60);
    const pool = await make();
    touch('a');
    const n = pool.lease('acme', 'a', '+14155550142');
    expect(n).toEqual({ number: '+14155550142', fallback: false, source: 'claim' });
    expect(claims).toEqual([{ accepted: true }]);
    expect(pool.holder('+14155550142')).toEqual({ tenant: 'acme', sessionId: 'a' });
    expect((await store.get('acme', 'a'))?.number).toBe('+14155550142');
    // No pool number was used up.
    expect(pool.leased).toBe(0);
    pool.release('acme', 'a', n.number);
    advance(59_000);
    expect(pool.holder(n.number)).toEqual({ tenant: 'acme', sessionId: 'a' });
    advance(2_000);
    expect(pool.holder(n.number)).toBeUndefined();
  });

  it('refuses a claim outside the blocks, not E.164, or of a tenant without blocks, and leases from the pool', async () => {
    const { make, touch, claims } = setup(5);
    const pool = await make();
    ['a', 'b', 'c'].forEach(touch);
    const outside = pool.lease('acme', 'a', '+14155550200');
    expect(outside.source).toBe('pool');
    expect(outside.number).toMatch(/^\+155501\d\d$/);
    expect(pool.lease('acme', 'b', '(415) 555-0142').source).toBe('pool');
    expect(pool.lease('other', 'c', '+14155550142').source).toBe('pool');
    expect(pool.lease('acme', 'c', 42).source).toBe('pool');
    expect(claims).toEqual([
      { accepted: false, reason: 'outside_ranges' },
      { accepted: false, reason: 'not_e164' },
      { accepted: false, reason: 'no_ranges' },
      { accepted: false, reason: 'not_e164' },
    ]);
    expect(pool.holder('+14155550200')).toBeUndefined();
  });

  it('gives a claimed number to the latest session that claims it', async () => {
    const { make, touch, store } = setup();
    const pool = await make();
    ['a', 'b'].forEach(touch);
    pool.lease('acme', 'a', '+14155550150');
    pool.lease('acme', 'b', '+14155550150');
    expect(pool.holder('+14155550150')).toEqual({ tenant: 'acme', sessionId: 'b' });
    expect((await store.get('acme', 'a'))?.number).toBeNull();
    // a's next call without a claim gets a pool number.
    expect(pool.lease('acme', 'a').source).toBe('pool');
  });

  it('keeps claimed leases across a restart, and a pool number reclaimed later does not unseat the claim', async () => {
    const { make, touch, advance } = setup(1, 1);
    ['a', 'b'].forEach(touch);
    const first = await make();
    const pooled = first.lease('acme', 'a');
    first.release('acme', 'a', pooled.number);
    first.lease('acme', 'a', '+14155550160');
    const again = await make();
    expect(again.holder('+14155550160')).toEqual({ tenant: 'acme', sessionId: 'a' });
    advance(5_000);
    // The pool number a held expired: b gets it; a keeps its claimed number.
    expect(again.lease('acme', 'b').number).toBe(pooled.number);
    expect(again.lease('acme', 'a', '+14155550160').number).toBe('+14155550160');
  });
});
