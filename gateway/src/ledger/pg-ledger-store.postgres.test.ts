/**
 * The PostgreSQL ledger against a real server (Debian `postgresql`, started by
 * the testkit): the SQLite store's cases (`sqlite-ledger-store.test.ts`), and
 * one key posted by two gateways at once.
 */
import { describe, expect, it } from 'vitest';
import { migratePostgres, type PgPool } from '../storage/postgres/index.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { LEDGER_PG_MIGRATIONS, PgLedgerStore } from './index.js';

const pg = useTestPostgres('ledger');
async function ledger(): Promise<{ store: PgLedgerStore; url: string; pool: PgPool }> {
  const url = await pg.database();
  const pool = pg.pool(url);
  await migratePostgres(pool, [{ name: 'ledger', postgres: LEDGER_PG_MIGRATIONS }]);
  const store = new PgLedgerStore(pool);
  for (const [id, kind] of [
    ['funding:acme', 'funding'],
    ['advertiser:a', 'advertiser'],
    ['publisher:p', 'publisher'],
    ['platform:acme', 'platform'],
  ] as const) {
    await store.openAccount({ id, tenant: 'acme', kind, currency: 'USD', at: 1 });
  }
  return { store, url, pool };
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

describe('PgLedgerStore', () => {
  it('posts a balanced transaction once per key and keeps balances', async () => {
    const { store } = await ledger();
    await store.post({
      key: 'deposit:1',
      tenant: 'acme',
      kind: 'deposit',
      postings: [
        { account: 'funding:acme', amount: -10_000 },
        { account: 'advertiser:a', amount: 10_000 },
      ],
      at: 1,
    });
    const first = await store.post(charge('charge:call-1', 1250, 875));
    const again = await store.post(charge('charge:call-1', 1250, 875));
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.transaction).toEqual(first.transaction);
    expect(first.transaction.postings).toEqual(charge('x', 1250, 875).postings);
    expect((await store.account('advertiser:a'))?.balance).toBe(8750);
    expect((await store.account('publisher:p'))?.balance).toBe(875);
    expect((await store.account('platform:acme'))?.balance).toBe(375);
    expect(await store.verify()).toEqual([]);
  });

  it('refuses unbalanced, fractional and same-account postings, and a reused key with other amounts', async () => {
    const { store } = await ledger();
    const post = (postings: { account: string; amount: number }[]) =>
      store.post({ key: 'k', tenant: 'acme', kind: 'x', postings, at: 1 });
    await expect(post([{ account: 'advertiser:a', amount: 5 }])).rejects.toThrow(/at least two/);
    await expect(
      post([
        { account: 'advertiser:a', amount: 5 },
        { account: 'platform:acme', amount: -4 },
      ]),
    ).rejects.toThrow(/sum to 1/);
    await expect(
      post([
        { account: 'advertiser:a', amount: 0.5 },
        { account: 'platform:acme', amount: -0.5 },
      ]),
    ).rejects.toThrow(/integer/);
    await expect(
      post([
        { account: 'advertiser:a', amount: 5 },
        { account: 'advertiser:a', amount: -5 },
      ]),
    ).rejects.toThrow(/twice/);
    await expect(
      post([
        { account: 'advertiser:a', amount: 5 },
        { account: 'nobody', amount: -5 },
      ]),
    ).rejects.toThrow(/no ledger account nobody/);
    await store.post(charge('charge:c', 100, 50));
    await expect(store.post(charge('charge:c', 200, 50))).rejects.toThrow(/already posted/);
    expect(await store.list({ limit: 10 })).toHaveLength(1);
    expect(await store.verify()).toEqual([]);
  });

  it('keeps postings append-only', async () => {
    const { store, pool } = await ledger();
    await store.post(charge('charge:c', 100, 10));
    await expect(pool.query('UPDATE ledger_postings SET amount = 1')).rejects.toThrow(
      /append-only/,
    );
    await expect(pool.query('DELETE FROM ledger_postings')).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM ledger_transactions')).rejects.toThrow(/append-only/);
  });

  it('sums refunds that reverse a charge, and lists by account newest first', async () => {
    const { store } = await ledger();
    const c = (await store.post(charge('charge:c', 1000, 700))).transaction;
    await store.post({
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
    expect(await store.reversedAmount(c.id, 'advertiser:a')).toBe(400);
    expect((await store.list({ account: 'publisher:p', limit: 10 })).map((t) => t.kind)).toEqual([
      'refund',
      'charge',
    ]);
    expect(await store.list({ tenant: 'acme', beforeId: c.id + 1, limit: 10 })).toHaveLength(1);
  });

  it('writes one key once when two gateways post it at the same moment', async () => {
    const { store, url } = await ledger();
    const other = pg.pool(url);
    const second = new PgLedgerStore(other);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? store : second).post(charge(`charge:same`, 500, 100)),
      ),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
    expect((await store.account('advertiser:a'))?.balance).toBe(-500);
    expect(await store.verify()).toEqual([]);
  });
});
