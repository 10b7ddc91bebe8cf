/**
 * Money counted once across gateways (issue 16 with issue 12's rules): two
 * "gateways" (two pools, two `PgCharges`, as two gateway processes hold them)
 * share one real PostgreSQL (Debian `postgresql`, started by the testkit) and
 * charge qualified calls of one listing at the same time.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_PG_MIGRATIONS } from '../ledger/index.js';
import { migratePostgres, type PgPool } from '../storage/postgres/index.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { accountId } from './accounts.js';
import { MARKETPLACE_PG_MIGRATIONS, PgCharges, type SharedChargeInput } from './pg-charges.js';

const MODULES = [
  { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
  { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
];

const pg = useTestPostgres('money');
/** One database, and two gateways' worth of pools and charge books on it (migrated by both, as at start). */
async function cluster(): Promise<{ gateways: PgCharges[]; pool: PgPool }> {
  const url = await pg.database();
  const pools = [pg.pool(url, 6), pg.pool(url, 6)];
  // Both start at once: the advisory lock lets each migration run once.
  await Promise.all(pools.map((p) => migratePostgres(p, MODULES)));
  return { gateways: pools.map((p) => new PgCharges(p, 'USD')), pool: pools[0]! };
}

const call = (n: number) => ({
  callId: `call-${n}`,
  tenant: 'acme',
  kind: 'tracked' as const,
  listingId: 'ls_1',
  advertiserId: 'ad_1',
  publisherId: 'pb_1',
  impressionId: `im_${n}`,
});

function chargeOf(n: number, over: Partial<SharedChargeInput> = {}): SharedChargeInput {
  return {
    call: call(n),
    price: 1000,
    sharePercent: 30,
    creditLimit: 0,
    dailyBudget: 1_000_000,
    day: '2026-12-05',
    at: 1_000 + n,
    ...over,
  };
}

async function fund(charges: PgCharges, amount: number): Promise<void> {
  await charges.openAccounts(call(0), 1);
  if (amount > 0)
    await charges.ledger.post({
      key: 'deposit:ad_1:first',
      tenant: 'acme',
      kind: 'deposit',
      postings: [
        { account: accountId.funding('acme'), amount: -amount },
        { account: accountId.advertiser('ad_1'), amount },
      ],
      at: 1,
    });
}

/** Twelve qualified calls, alternately on each gateway, all at once; then every key replayed on the other gateway. */
async function race(gateways: PgCharges[], over: Partial<SharedChargeInput> = {}) {
  const calls = Array.from({ length: 12 }, (_, n) => n + 1);
  const first = await Promise.all(
    calls.map((n) => (gateways[n % 2] as PgCharges).charge(chargeOf(n, over))),
  );
  const replays = await Promise.all(
    calls.map((n) => (gateways[(n + 1) % 2] as PgCharges).charge(chargeOf(n, over))),
  );
  return { first, replays };
}

describe('PgCharges: two gateways, one PostgreSQL', () => {
  it('charges exactly the calls the balance covers, each once; a replayed key charges nothing', async () => {
    const { gateways, pool } = await cluster();
    const [a] = gateways as [PgCharges, PgCharges];
    await fund(a, 4_500); // covers 4 calls at 1000
    const { first, replays } = await race(gateways);

    const charged = first.filter((r) => r.status === 'charged');
    expect(charged).toHaveLength(4);
    expect(first.filter((r) => r.status === 'refused')).toEqual(
      Array.from({ length: 8 }, () => ({ status: 'refused', reason: 'insufficient_funds' })),
    );
    // The replay of a charged key answers the first transaction; a refused call stays refused.
    for (const [i, r] of replays.entries()) {
      const was = first[i];
      if (was?.status === 'charged')
        expect(r).toEqual({ status: 'duplicate', transaction: was.transaction });
      else expect(r).toEqual({ status: 'refused', reason: 'insufficient_funds' });
    }

    const ledger = a.ledger;
    expect((await ledger.account(accountId.advertiser('ad_1')))?.balance).toBe(500);
    expect((await ledger.account(accountId.publisher('pb_1')))?.balance).toBe(4 * 300);
    expect((await ledger.account(accountId.platform('acme')))?.balance).toBe(4 * 700);
    const stored = (await ledger.list({ limit: 100 })).filter((t) => t.kind === 'charge');
    expect(stored).toHaveLength(4);
    expect(new Set(stored.map((t) => t.key)).size).toBe(4);
    expect(await ledger.verify()).toEqual([]);
    expect(await a.spent('ls_1', '2026-12-05')).toBe(4_000);
    const rows = await pool.query<{ n: number }>(
      `SELECT COUNT(*)::BIGINT AS n FROM ledger_transactions WHERE kind = 'charge'`,
    );
    expect(rows.rows[0]?.n).toBe(4);
  });

  it('stops at the daily budget across gateways, and a credit advertiser at its limit', async () => {
    const budget = await cluster();
    await fund(budget.gateways[0] as PgCharges, 100_000);
    const byBudget = await race(budget.gateways, { dailyBudget: 3_500 });
    expect(byBudget.first.filter((r) => r.status === 'charged')).toHaveLength(3);
    expect(
      byBudget.first.filter((r) => r.status === 'refused' && r.reason === 'daily_budget_exhausted'),
    ).toHaveLength(9);
    const ledger = (budget.gateways[1] as PgCharges).ledger;
    expect((await ledger.account(accountId.advertiser('ad_1')))?.balance).toBe(97_000);
    expect(await (budget.gateways[1] as PgCharges).spent('ls_1', '2026-12-05')).toBe(3_000);
    expect(await ledger.verify()).toEqual([]);

    const credit = await cluster();
    await fund(credit.gateways[0] as PgCharges, 0);
    const byCredit = await race(credit.gateways, { creditLimit: 2_000 });
    expect(byCredit.first.filter((r) => r.status === 'charged')).toHaveLength(2);
    const creditLedger = (credit.gateways[0] as PgCharges).ledger;
    expect((await creditLedger.account(accountId.advertiser('ad_1')))?.balance).toBe(-2_000);
    expect(await creditLedger.verify()).toEqual([]);
  });

  it('a refused charge leaves nothing behind: no key, no spend, and it charges once money arrives', async () => {
    const { gateways } = await cluster();
    const [a, b] = gateways as [PgCharges, PgCharges];
    await fund(a, 0);
    expect(await b.charge(chargeOf(1))).toEqual({
      status: 'refused',
      reason: 'insufficient_funds',
    });
    expect(await a.ledger.transaction('charge:call-1')).toBeUndefined();
    expect(await a.spent('ls_1', '2026-12-05')).toBe(0);
    await fund(a, 1_000);
    expect(await b.charge(chargeOf(1))).toMatchObject({ status: 'charged' });
    expect(await a.charge(chargeOf(1))).toMatchObject({ status: 'duplicate' });
    expect((await a.ledger.account(accountId.advertiser('ad_1')))?.balance).toBe(0);
    expect(await a.ledger.verify()).toEqual([]);
  });
});
