import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/index.js';
import { LEDGER_SCHEMA, SqliteLedgerStore } from './index.js';

function ledger() {
  const db = openDatabase(':memory:', [LEDGER_SCHEMA]);
  const store = new SqliteLedgerStore(db);
  for (const [id, kind] of [
    ['funding:acme', 'funding'],
    ['advertiser:a', 'advertiser'],
    ['publisher:p', 'publisher'],
    ['platform:acme', 'platform'],
  ] as const) {
    store.openAccount({ id, tenant: 'acme', kind, currency: 'USD', at: 1 });
  }
  return { db, store };
}

const charge = (key: string, price: number, share: number) => ({
  key,
  tenant: 'acme',
  kind: 'charge',
  postings: [
    { account: 'advertiser:a', amount: -price },
    { account: 'publisher:p', amount: share },
    { account: 'platform:acme', amount: price - share },
  ],
  at: 2,
});

describe('SqliteLedgerStore', () => {
  it('posts a balanced transaction once per key and keeps balances', () => {
    const { store } = ledger();
    store.post({
      key: 'deposit:1',
      tenant: 'acme',
      kind: 'deposit',
      postings: [
        { account: 'funding:acme', amount: -10_000 },
        { account: 'advertiser:a', amount: 10_000 },
      ],
      at: 1,
    });
    const first = store.post(charge('charge:call-1', 1250, 875));
    const again = store.post(charge('charge:call-1', 1250, 875));
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.transaction.id).toBe(first.transaction.id);
    expect(store.account('advertiser:a')?.balance).toBe(8750);
    expect(store.account('publisher:p')?.balance).toBe(875);
    expect(store.account('platform:acme')?.balance).toBe(375);
    expect(store.verify()).toEqual([]);
  });

  it('refuses unbalanced, zero, fractional and same-account postings, and a reused key with other amounts', () => {
    const { store } = ledger();
    const post =
      (postings: { account: string; amount: number }[], key = 'k') =>
      () =>
        store.post({ key, tenant: 'acme', kind: 'x', postings, at: 1 });
    expect(post([{ account: 'advertiser:a', amount: 5 }])).toThrow(/at least two/);
    expect(
      post([
        { account: 'advertiser:a', amount: 5 },
        { account: 'platform:acme', amount: -4 },
      ]),
    ).toThrow(/sum to 1/);
    expect(
      post([
        { account: 'advertiser:a', amount: 0.5 },
        { account: 'platform:acme', amount: -0.5 },
      ]),
    ).toThrow(/integer/);
    expect(
      post([
        { account: 'advertiser:a', amount: 5 },
        { account: 'advertiser:a', amount: -5 },
      ]),
    ).toThrow(/twice/);
    store.post(charge('charge:c', 100, 50));
    expect(() => store.post(charge('charge:c', 200, 50))).toThrow(/already posted/);
    expect(store.list({ limit: 10 })).toHaveLength(1);
    expect(store.verify()).toEqual([]);
  });

  it('rolls back with the caller: a post inside a failed transaction leaves nothing', () => {
    const { db, store } = ledger();
    expect(() =>
      db.transaction(() => {
        store.post(charge('charge:rolled-back', 100, 10));
        throw new Error('the caller failed after the post');
      })(),
    ).toThrow(/caller failed/);
    expect(store.transaction('charge:rolled-back')).toBeUndefined();
    expect(store.account('advertiser:a')?.balance).toBe(0);
    expect(store.verify()).toEqual([]);
  });

  it('keeps postings append-only', () => {
    const { db, store } = ledger();
    store.post(charge('charge:c', 100, 10));
    expect(() => db.prepare('UPDATE ledger_postings SET amount = 1').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM ledger_postings').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM ledger_transactions').run()).toThrow(/append-only/);
  });

  it('sums refunds that reverse a charge, per account', () => {
    const { store } = ledger();
    const c = store.post(charge('charge:c', 1000, 700)).transaction;
    store.post({
      key: 'refund:r1',
      tenant: 'acme',
      kind: 'refund',
      reverses: c.id,
      postings: [
        { account: 'advertiser:a', amount: 400 },
        { account: 'publisher:p', amount: -280 },
        { account: 'platform:acme', amount: -120 },
      ],
      at: 3,
    });
    expect(store.reversedAmount(c.id, 'advertiser:a')).toBe(400);
    expect(store.list({ account: 'publisher:p', limit: 10 }).map((t) => t.kind)).toEqual([
      'refund',
      'charge',
    ]);
  });

  it('holds its invariants under any sequence of posts, repeats and failures (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.integer({ min: 0, max: 30 }),
            price: fc.integer({ min: 1, max: 1_000_000 }),
            sharePercent: fc.integer({ min: 0, max: 100 }),
            failAfter: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const { db, store } = ledger();
          const applied = new Map<number, number>();
          for (const op of ops) {
            const share = Math.floor((op.price * op.sharePercent) / 100);
            const tx = charge(`charge:${op.key}`, op.price, share);
            try {
              db.transaction(() => {
                store.post(tx);
                if (op.failAfter) throw new Error('fail');
              })();
              if (!applied.has(op.key)) applied.set(op.key, op.price);
            } catch {
              // a failure rolls back; a reused key with other amounts is refused
            }
          }
          expect(store.verify()).toEqual([]);
          const spent = [...applied.values()].reduce((a, b) => a + b, 0);
          expect((store.account('advertiser:a')?.balance ?? NaN) + spent).toBe(0);
          expect(store.list({ limit: 1000 })).toHaveLength(applied.size);
        },
      ),
      { numRuns: 60 },
    );
  });
});
