/**
 * The callback store's contract (`store-contract.ts`) on a real PostgreSQL
 * (Debian `postgresql`, started by the testkit), migrated by the gateway's
 * own path, with a second gateway's store on the same database; then what
 * only a shared database does: of two gateways claiming, one dials; a
 * survivor takes a lost gateway's callbacks; the fee and the record's charge
 * commit together or not at all.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_PG_MIGRATIONS } from '../ledger/index.js';
import { MARKETPLACE_PG_MIGRATIONS, PgCharges } from '../marketplace/pg-charges.js';
import { migratePostgres } from '../storage/postgres/index.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { CallbackFees } from './fee.js';
import { postSharedFee, type CallbackBilling } from './marketplace-ports.js';
import { CALLBACKS_PG_MIGRATIONS } from './pg-schema.js';
import { PgCallbackStore } from './pg-store.js';
import { callbackRecord, callbackStoreContract } from './store-contract.js';

const MODULES = [
  { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
  { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
  { name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS },
];
const pg = useTestPostgres('callbacks');

async function two() {
  const pool = await pg.migrated(MODULES, 8);
  return { pool, a: new PgCallbackStore(pool, 'gw-a'), b: new PgCallbackStore(pool, 'gw-b') };
}

callbackStoreContract('PostgreSQL', async () => {
  const { a, b } = await two();
  return { store: a, other: b };
});

describe('callbacks in the shared PostgreSQL', () => {
  it('migrates once: a second run applies nothing', async () => {
    const { pool } = await two();
    expect(await migratePostgres(pool, MODULES)).toEqual({ applied: 0 });
  });

  it('of two gateways claiming every due callback at once, one dials each', async () => {
    const { a, b } = await two();
    const ids = Array.from({ length: 20 }, (_, i) => `cb-${i}`);
    for (const id of ids) await a.insert(callbackRecord(id, { tokenId: `j-${id}` }), 'h');
    // B took them all over (A was lost) while A's scheduler still held them.
    expect((await b.shared.adopt('gw-a')).map((r) => r.id).sort()).toEqual([...ids].sort());
    const calling = (id: string) => callbackRecord(id, { tokenId: `j-${id}`, state: 'calling' });
    const claims = await Promise.all(
      ids.flatMap((id) => [
        a.claim(calling(id), `a-${id}`),
        b.claim(calling(id), `b1-${id}`),
        b.claim(calling(id), `b2-${id}`),
      ]),
    );
    expect(claims.filter(Boolean)).toHaveLength(ids.length);
    // A's claims all failed: they are B's now.
    expect(claims.filter((_, i) => i % 3 === 0 && claims[i])).toEqual([]);
    expect(await a.scheduled()).toEqual([]);
  });

  it('answers a claim asked again with its token as this claim’s, and no other', async () => {
    const { a } = await two();
    await a.insert(callbackRecord('cb-1'), 'h');
    const calling = callbackRecord('cb-1', { state: 'calling' });
    expect(await a.claim(calling, 't1')).toBe(true);
    // The first one's answer lost: asked again, it is this gateway's; another claim's is not.
    expect(await a.claim(calling, 't1', true)).toBe(true);
    expect(await a.claim(calling, 't2', true)).toBe(false);
    expect(await a.claim(calling, 't1')).toBe(false);
  });

  it('lets a survivor find a lost gateway’s open callbacks, and take each once', async () => {
    const { pool, a, b } = await two();
    const c = new PgCallbackStore(pool, 'gw-c');
    await a.insert(callbackRecord('cb-1'), 'h');
    await a.insert(callbackRecord('cb-2', { tokenId: 'j2' }), 'h');
    await a.save(callbackRecord('cb-2', { tokenId: 'j2', state: 'prompting' }));
    await b.insert(callbackRecord('cb-3', { tokenId: 'j3' }), 'h');
    expect((await c.shared.openOwners()).sort()).toEqual(['gw-a', 'gw-b']);
    expect((await c.shared.inProgressOf('gw-a')).map((r) => r.id)).toEqual(['cb-2']);
    const [byB, byC] = await Promise.all([b.shared.adopt('gw-a'), c.shared.adopt('gw-a')]);
    expect([...byB, ...byC].map((r) => r.id)).toEqual(['cb-1']);
    expect(await a.scheduled()).toEqual([]);
  });

  it('charges the fee and marks the record in one transaction, once across gateways', async () => {
    const { pool, a, b } = await two();
    const charges = new PgCharges(pool, 'USD');
    const billing: CallbackBilling = {
      ledger: 'shared',
      available: () => 10_000,
      post: (input, writes) => postSharedFee(charges, input, writes),
      fundsChanged: () => undefined,
    };
    const fees = (store: PgCallbackStore) => new CallbackFees({ store, billing, now: Date.now });
    await a.insert(callbackRecord('cb-1', { state: 'connecting' }), 'h');
    const [fromA, fromB] = await Promise.all([
      fees(a).connected(callbackRecord('cb-1', { state: 'connecting' }), 1000),
      fees(b).connected(callbackRecord('cb-1', { state: 'connecting' }), 1000),
    ]);
    const fee = await charges.ledger.transaction('callback:cb-1');
    expect(fee?.kind).toBe('callback_fee');
    expect(fromA.chargeTransactionId).toBe(fee?.id);
    expect(fromB.chargeTransactionId).toBe(fee?.id);
    expect(await b.get('cb-1')).toMatchObject({
      chargeKey: 'callback:cb-1',
      chargeTransactionId: fee?.id,
    });
    expect((await charges.ledger.account('advertiser:ad_1'))?.balance).toBe(-300);

    // A write of the record that fails inside the posting: no money moves, the record is uncharged.
    await a.insert(callbackRecord('cb-2', { tokenId: 'j2', state: 'connecting' }), 'h');
    const broken = new PgCallbackStore(pool, 'gw-a');
    broken.chargeWrite = (id) => ({
      sql: 'UPDATE cb_callbacks SET fee = -1 WHERE id = $1',
      params: [id],
    });
    await expect(
      fees(broken).connected(callbackRecord('cb-2', { tokenId: 'j2', state: 'connecting' }), 1000),
    ).rejects.toThrow(/check constraint/);
    expect(await charges.ledger.transaction('callback:cb-2')).toBeUndefined();
    expect(await a.get('cb-2')).toMatchObject({ connectedAt: 1000, chargedAt: null });
    expect((await charges.ledger.account('advertiser:ad_1'))?.balance).toBe(-300);
    // The recovery (start, or a survivor) charges it once.
    await fees(b).charge((await b.get('cb-2'))!);
    expect((await charges.ledger.account('advertiser:ad_1'))?.balance).toBe(-600);
    expect((await a.get('cb-2'))?.chargeKey).toBe('callback:cb-2');
    expect(await charges.ledger.verify()).toEqual([]);
  });
});
