/**
 * The callback fee in the ledger every gateway shares (`storage.kind:
 * postgres`), on a real PostgreSQL (Debian `postgresql`, started by the
 * testkit): two "gateways" (each its SQLite file for the callback records,
 * its pool and `PgCharges` on one database) charge the same callback, and a
 * crash between the PostgreSQL commit and the record's write is recovered:
 * one `callback_fee` under `callback:<id>`, the advertiser debited once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LEDGER_PG_MIGRATIONS } from '../ledger/index.js';
import { MARKETPLACE_PG_MIGRATIONS, PgCharges } from '../marketplace/pg-charges.js';
import { openDatabase } from '../storage/index.js';
import { migratePostgres } from '../storage/postgres/index.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { CallbackFees } from './fee.js';
import { postSharedFee, type CallbackBilling } from './marketplace-ports.js';
import type { CallbackRecord } from './model.js';
import { CALLBACKS_SCHEMA } from './schema.js';
import { SqliteCallbackStore } from './sqlite-store.js';

const MODULES = [
  { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
  { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
];

const pg = useTestPostgres('callback_fees');
const dir = mkdtempSync(join(tmpdir(), 'parley-fee-shared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Gateway {
  readonly store: SqliteCallbackStore;
  readonly charges: PgCharges;
  fees(beforeCommit?: (id: string) => void): CallbackFees;
}

let clusters = 0;
/** Two gateways on one PostgreSQL database, each with its own SQLite file. */
async function cluster(): Promise<Gateway[]> {
  const url = await pg.database();
  clusters += 1;
  const gateways: Gateway[] = [];
  for (let i = 0; i < 2; i += 1) {
    const pool = pg.pool(url, 4);
    await migratePostgres(pool, MODULES);
    const charges = new PgCharges(pool, 'USD');
    const billing: CallbackBilling = {
      ledger: 'shared',
      available: () => 10_000,
      post: (input) => postSharedFee(charges, input),
      fundsChanged: () => undefined,
    };
    const store = new SqliteCallbackStore(
      openDatabase(join(dir, `gw${clusters}-${i}.sqlite`), [CALLBACKS_SCHEMA]),
    );
    gateways.push({
      store,
      charges,
      fees: (beforeCommit) => new CallbackFees({ store, billing, now: Date.now, beforeCommit }),
    });
  }
  return gateways;
}

function record(id: string): CallbackRecord {
  return {
    id,
    tenant: 'acme',
    destination: 'listing.lst_1',
    listingId: 'lst_1',
    advertiserId: 'ad_1',
    advertiserName: 'Bob',
    target: { kind: 'agent', agent: 'agent1' },
    phone: '+14155550123',
    callerNumber: '+14155550188',
    sessionId: 's1',
    origin: 'https://shop.example',
    page: null,
    impressionId: null,
    tokenId: `jti-${id}`,
    mode: 'now',
    dueAt: 0,
    expiresAt: null,
    state: 'connecting',
    outcome: null,
    code: null,
    feeCents: 300,
    currency: 'USD',
    connectedAt: null,
    chargedAt: null,
    chargeKey: null,
    chargeTransactionId: null,
    attempts: [],
    dialogs: [],
    ringing: [],
    privateClaims: {},
    createdAt: 0,
    updatedAt: 0,
    endedAt: null,
  };
}

async function feesOf(charges: PgCharges, id: string) {
  const all = await charges.ledger.list({ account: 'advertiser:ad_1', limit: 100 });
  return all.filter((t) => t.kind === 'callback_fee' && t.key === `callback:${id}`);
}

describe('the callback fee in the shared PostgreSQL ledger', () => {
  it('is posted there once under callback:<id>, whichever gateways charge it', async () => {
    const [a, b] = await cluster();
    // The same callback's record on both (a record moved with its callback, a recovery elsewhere).
    await a!.store.insert(record('cb1'), 'hash');
    await b!.store.insert(record('cb1'), 'hash');
    const [fromA, fromB] = await Promise.all([
      a!.fees().connected(record('cb1'), 1000),
      b!.fees().connected(record('cb1'), 1000),
    ]);
    const fees = await feesOf(a!.charges, 'cb1');
    expect(fees).toHaveLength(1);
    expect(fees[0]?.postings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ account: 'advertiser:ad_1', amount: -300 }),
        expect.objectContaining({ account: 'platform:acme', amount: 300 }),
      ]),
    );
    expect(fromA.chargeTransactionId).toBe(fees[0]?.id);
    expect(fromB.chargeTransactionId).toBe(fees[0]?.id);
    expect((await a!.store.get('cb1'))?.chargeKey).toBe('callback:cb1');
    expect((await a!.charges.ledger.account('advertiser:ad_1'))?.balance).toBe(-300);
    // Asked again: nothing more.
    await a!.fees().charge((await a!.store.get('cb1'))!);
    expect(await feesOf(b!.charges, 'cb1')).toHaveLength(1);
    expect(await a!.charges.ledger.verify()).toEqual([]);
  });

  it('survives a crash between the PostgreSQL commit and the record: charged once', async () => {
    const [a] = await cluster();
    await a!.store.insert(record('cb2'), 'hash');
    const crashing = a!.fees(() => {
      throw new Error('crash after the shared ledger committed');
    });
    await expect(crashing.connected(record('cb2'), 1000)).rejects.toThrow(/crash/);
    // The money moved; this gateway's record does not say so yet.
    expect(await feesOf(a!.charges, 'cb2')).toHaveLength(1);
    const stored = (await a!.store.get('cb2'))!;
    expect(stored.connectedAt).toBe(1000);
    expect(stored.chargedAt).toBeNull();
    // The recovery (CallbackService.start) charges again: the key answers the first transaction.
    const recovered = await a!.fees().charge(stored);
    const fees = await feesOf(a!.charges, 'cb2');
    expect(fees).toHaveLength(1);
    expect(recovered.chargeTransactionId).toBe(fees[0]?.id);
    expect((await a!.store.get('cb2'))?.chargedAt).not.toBeNull();
    expect((await a!.charges.ledger.account('advertiser:ad_1'))?.balance).toBe(-300);
  });

  it('charges nothing for a callback that never connected', async () => {
    const [a] = await cluster();
    await a!.store.insert(record('cb3'), 'hash');
    await a!.fees().charge((await a!.store.get('cb3'))!);
    expect(await feesOf(a!.charges, 'cb3')).toEqual([]);
    expect((await a!.store.get('cb3'))?.chargedAt).toBeNull();
  });
});
