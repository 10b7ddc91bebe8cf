/**
 * The gated store's contract (`../store-contract.ts`) on a real PostgreSQL
 * (Debian `postgresql`, started by the testkit), migrated by the gateway's
 * own path, with a second gateway's store on the same database; then the
 * money of two gateways at once, each with its own pool (its own
 * connections, as two processes): the same minutes charged by both count
 * once, many calls on one account never overdraw it, and one credit key sent
 * to both counts once. What was charged plus what is left is always what was
 * credited. And the residents and PIN counts of two gateways, each with its
 * own pool: a resident added through one is called through the other, and a
 * lockout the PIN guard of one sets holds on the other's.
 */
import { describe, expect, it } from 'vitest';
import { PinGuard } from '../../pins/pin-guard.js';
import { device, resident } from '../residents-contract.js';
import { migratePostgres, type PgPool } from '../../../storage/postgres/index.js';
import { useTestPostgres } from '../../../storage/postgres/test-postgres.js';
import { createPgGatedStore } from '../pg-gated-store.js';
import { account, gatedStoreContract } from '../store-contract.js';
import type { GatedStore } from '../store.js';
import { GATED_PG_MIGRATIONS } from './pg-schema.js';

const pg = useTestPostgres('gated');
const MODULES = [{ name: 'gated', postgres: GATED_PG_MIGRATIONS }];
const T = 'facility';

/** A gateway's store: everything in `pool`'s database, nothing in a SQLite file. */
function gateway(pool: PgPool, owner: string): GatedStore {
  return createPgGatedStore(pool, owner);
}

gatedStoreContract('PostgreSQL', async () => {
  const pool = await pg.migrated(MODULES);
  return { store: gateway(pool, 'gw-a'), other: gateway(pool, 'gw-b') };
});

/** Two gateways on one database, each with its own pool. */
async function twoGateways(): Promise<[GatedStore, GatedStore, PgPool]> {
  const url = await pg.database();
  const poolA = pg.pool(url, 8);
  await migratePostgres(poolA, MODULES);
  return [gateway(poolA, 'gw-a'), gateway(pg.pool(url, 8), 'gw-b'), poolA];
}

async function ledger(pool: PgPool, accountId: string) {
  const { rows } = await pool.query<{ credited: number; charged: number; balance: number }>(
    `SELECT (SELECT coalesce(sum(amount), 0)::bigint FROM gated_credits WHERE account_id = $1) AS credited,
            (SELECT coalesce(sum(amount), 0)::bigint FROM gated_charges WHERE account_id = $1) AS charged,
            (SELECT balance FROM gated_accounts WHERE id = $1) AS balance`,
    [accountId],
  );
  return rows[0]!;
}

describe('the PostgreSQL gated store, two gateways at once', () => {
  it('migrates once: a second run applies nothing', async () => {
    const pool = await pg.migrated(MODULES);
    expect(await migratePostgres(pool, MODULES)).toEqual({ applied: 0 });
  });

  it('charges each minute of a call once when both gateways charge it at once', async () => {
    const [a, b, pool] = await twoGateways();
    await a.accounts.insert(account('acc-1'));
    await a.billing.credit({ ...topUp('acc-1', 'k'), amount: 1000 });
    const open = { callId: 'call-1', tenant: T, accountId: 'acc-1', ratePerMinute: 10 };
    const opened = await Promise.all([
      a.billing.openMeter({ ...open, connectedAt: 1 }),
      b.billing.openMeter({ ...open, connectedAt: 1 }),
    ]);
    expect(opened.map((r) => r.ok && r.duplicate).sort()).toEqual([false, true]);
    for (let minute = 2; minute <= 20; minute += 1) {
      const charge = { tenant: T, accountId: 'acc-1', callId: 'call-1', minute, amount: 10, at: 2 };
      const results = await Promise.all([
        a.billing.chargeMinute(charge),
        b.billing.chargeMinute(charge),
        a.billing.chargeMinute(charge),
        b.billing.chargeMinute(charge),
      ]);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(results.filter((r) => r.ok && !r.duplicate)).toHaveLength(1);
    }
    expect((await b.billing.charges(T, 'call-1')).map((c) => c.minute)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await ledger(pool, 'acc-1')).toEqual({ credited: 1000, charged: 200, balance: 800 });
    expect((await a.billing.meter('call-1'))?.minutesCharged).toBe(20);
  });

  it('never overdraws an account that calls from both gateways at once', async () => {
    const [a, b, pool] = await twoGateways();
    await a.accounts.insert(account('acc-1'));
    await a.billing.credit({ ...topUp('acc-1', 'k'), amount: 255 });
    // 40 calls open at once (20 on each gateway), each charging its first minute of 10.
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).billing.openMeter({
          callId: `call-${i}`,
          tenant: T,
          accountId: 'acc-1',
          ratePerMinute: 10,
          connectedAt: 1,
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(25);
    expect(results.filter((r) => !r.ok && r.reason === 'insufficient')).toHaveLength(15);
    expect(await ledger(pool, 'acc-1')).toEqual({ credited: 255, charged: 250, balance: 5 });
    // The refused calls left no meter.
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM gated_meters');
    expect(rows[0]?.n).toBe(25);
    // Then each open call's second minute, from both gateways at once: none can be paid.
    const second = await Promise.all(
      results.flatMap((r, i) =>
        r.ok
          ? [a, b].map((g) =>
              g.billing.chargeMinute({
                tenant: T,
                accountId: 'acc-1',
                callId: `call-${i}`,
                minute: 2,
                amount: 10,
                at: 2,
              }),
            )
          : [],
      ),
    );
    expect(second.every((r) => !r.ok && r.reason === 'insufficient')).toBe(true);
    expect(await ledger(pool, 'acc-1')).toEqual({ credited: 255, charged: 250, balance: 5 });
  });

  it('counts one credit key sent to both gateways at once once', async () => {
    const [a, b, pool] = await twoGateways();
    await a.accounts.insert(account('acc-1'));
    for (let i = 0; i < 10; i += 1) {
      const results = await Promise.all(
        [a, b, a, b].map((g) => g.billing.credit({ ...topUp('acc-1', `key-${i}`), amount: 7 })),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(results.filter((r) => r.ok && !r.duplicate)).toHaveLength(1);
    }
    expect(await ledger(pool, 'acc-1')).toEqual({ credited: 70, charged: 0, balance: 70 });
  });
});

describe('the PostgreSQL gated store, residents and PINs on two gateways', () => {
  const policy = { maxFailures: 3, delayMs: 0, lockoutMs: 60_000 };

  it('knows a resident and its device added through the other gateway', async () => {
    const [a, b] = await twoGateways();
    await a.transaction(async (tx) => {
      await tx.devices.put(device('cell-1', { sipUser: 'gd-1' }));
      await tx.residents.put(resident('r-1', { devices: ['cell-1'], number: '1001' }));
    });
    expect((await b.residents.byNumber(T, '1001'))?.devices).toEqual(['cell-1']);
    expect((await b.devices.bySipUser('gd-1'))?.address).toBe('cell-1');
    expect(await b.residents.ofDevice(T, 'cell-1')).toEqual(['r-1']);
    await b.residents.delete(T, 'r-1');
    expect(await a.residents.get(T, 'r-1')).toBeUndefined();
  });

  it('holds a lockout set through one gateway on the other', async () => {
    const [a, b] = await twoGateways();
    const now = Date.now();
    const guardA = new PinGuard({ store: a.pinAttempts, now: () => now });
    const guardB = new PinGuard({ store: b.pinAttempts, now: () => now });
    const subject = ['resident:facility/r-1'];
    // Wrong PINs alternately on A and B: the third, on A, locks.
    for (const guard of [guardA, guardB, guardA]) {
      const answer = await guard.begin(subject, policy);
      expect(answer.ok).toBe(true);
      if (answer.ok) await answer.attempt.failed();
    }
    for (const guard of [guardB, guardA])
      expect(await guard.begin(subject, policy)).toMatchObject({
        ok: false,
        locked: true,
        retryAfterMs: 60_000,
      });
  });

  it('counts wrong PINs sent to both gateways at once, each once', async () => {
    const [a, b] = await twoGateways();
    const at = Date.now();
    const guards = [a, b].map((g) => new PinGuard({ store: g.pinAttempts, now: () => at }));
    // Each gateway's guard takes one try at a time: 2 at once, 5 rounds, 10 wrong PINs.
    const locked: string[][] = [];
    for (let round = 0; round < 5; round += 1) {
      const answers = await Promise.all(
        guards.map((g) => g.begin(['device:facility/cell-1'], { ...policy, maxFailures: 10 })),
      );
      for (const answer of answers) expect(answer.ok).toBe(true);
      locked.push(
        ...(await Promise.all(
          answers.map((x) => (x.ok ? x.attempt.failed() : Promise.resolve([]))),
        )),
      );
    }
    expect(locked.filter((l) => l.length > 0)).toHaveLength(1);
    expect(await b.pinAttempts.get('device:facility/cell-1')).toEqual({
      failures: 10,
      lastFailureAt: at,
      lockedUntil: at + 60_000,
    });
  });
});

function topUp(accountId: string, key: string) {
  return { tenant: T, accountId, key, amount: 0, note: null, actor: 'api:test', at: 1 };
}
