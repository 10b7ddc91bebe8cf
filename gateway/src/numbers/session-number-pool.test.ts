import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SqliteSessionStore, openDatabase } from '../storage/index.js';
import { SessionNumberPool, expandRanges } from './session-number-pool.js';

function setup(size = 3, graceSeconds = 60) {
  let clock = 1_000_000;
  const db = openDatabase(':memory:');
  const store = new SqliteSessionStore(db);
  let exhausted = 0;
  const make = () =>
    new SessionNumberPool({
      config: {
        ranges: [{ from: '+15550100', to: `+155501${String(size - 1).padStart(2, '0')}` }],
        fallback: '+15550199',
        graceSeconds,
      },
      store,
      logger: pino({ level: 'silent' }),
      now: () => clock,
      onExhausted: () => (exhausted += 1),
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
  return { make, store, touch, advance: (ms: number) => (clock += ms), exhausted: () => exhausted };
}

describe('expandRanges', () => {
  it('expands E.164 blocks and refuses bad ones', () => {
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
  it('gives each session its own number and the same one on every call', () => {
    const { make, touch } = setup();
    const pool = make();
    ['a', 'b'].forEach(touch);
    const a1 = pool.lease('acme', 'a');
    const b1 = pool.lease('acme', 'b');
    expect(a1.number).not.toBe(b1.number);
    expect(pool.lease('acme', 'a')).toEqual(a1);
    expect(pool.holder(a1.number)).toEqual({ tenant: 'acme', sessionId: 'a' });
  });

  it('keeps the number through the grace period and reuses it last', () => {
    const { make, touch, advance } = setup(2, 60);
    const pool = make();
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

  it('falls back when exhausted, counts it, and never takes a number from a session in a call', () => {
    const { make, touch, advance, exhausted } = setup(1, 1);
    const pool = make();
    ['a', 'b'].forEach(touch);
    const a = pool.lease('acme', 'a');
    advance(10_000); // past grace, but the call is still up
    expect(pool.lease('acme', 'b')).toEqual({ number: '+15550199', fallback: true });
    expect(exhausted()).toBe(1);
    expect(pool.holder(a.number)).toEqual({ tenant: 'acme', sessionId: 'a' });
  });

  it('survives a restart with the same leases', () => {
    const { make, touch, store } = setup();
    touch('a');
    const first = make().lease('acme', 'a').number;
    const again = make();
    expect(again.holder(first)).toEqual({ tenant: 'acme', sessionId: 'a' });
    expect(again.lease('acme', 'a').number).toBe(first);
    expect(store.getByNumber(first)?.sessionId).toBe('a');
  });
});
