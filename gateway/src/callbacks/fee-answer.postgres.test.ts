/**
 * The fee's PostgreSQL transaction (the shared ledger's posting with the
 * record's charge) whose COMMIT lands and whose answer is cut off on the way
 * back (`test-pg-proxy.ts` between the pool and the testkit's server): the
 * charge rejects, the runner charges again as the attempt ends (and every
 * start does, `CallbackService.start`), and the repeat finds the record
 * charged: one posting, the advertiser debited once.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_PG_MIGRATIONS } from '../ledger/index.js';
import { MARKETPLACE_PG_MIGRATIONS, PgCharges } from '../marketplace/pg-charges.js';
import { migratePostgres } from '../storage/postgres/index.js';
import { startPgProxy } from '../storage/postgres/test-pg-proxy.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { CallbackFees } from './fee.js';
import { postSharedFee, type CallbackBilling } from './marketplace-ports.js';
import { CALLBACKS_PG_MIGRATIONS } from './pg-schema.js';
import { PgCallbackStore } from './pg-store.js';
import { callbackRecord } from './store-contract.js';

const MODULES = [
  { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
  { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
  { name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS },
];
const pg = useTestPostgres('cbfee');

describe('the fee’s transaction whose answer is lost (PostgreSQL)', () => {
  it('committed, its answer cut off: charged again, the repeat adds nothing', async () => {
    const url = await pg.database();
    const direct = pg.pool(url, 2);
    await migratePostgres(direct, MODULES);
    const server = new URL(url);
    const proxy = await startPgProxy({ host: server.hostname, port: Number(server.port) });
    try {
      const pool = pg.pool(proxy.via(url), 4);
      const charges = new PgCharges(pool, 'USD');
      const billing: CallbackBilling = {
        ledger: 'shared',
        available: () => 10_000,
        post: (input, writes) => postSharedFee(charges, input, writes),
        fundsChanged: () => undefined,
      };
      const fees = new CallbackFees({
        store: new PgCallbackStore(pool, 'gw-a'),
        billing,
        now: Date.now,
      });
      const rows = new PgCallbackStore(direct, 'gw-a');
      await rows.insert(callbackRecord('cb-1', { state: 'connecting' }), 'h');
      // The record's charge inside the posting, then that transaction's COMMIT: its answer lost.
      proxy.cut('charge_tx = (SELECT id FROM ledger_transactions', 'lose', 1, 'COMMIT');
      const live = callbackRecord('cb-1', { state: 'connecting' });
      await expect(fees.connected(live, 1000)).rejects.toThrow(/Connection terminated/);
      expect(proxy.cuts).toBe(1);
      const fee = await new PgCharges(direct, 'USD').ledger.transaction('callback:cb-1');
      expect(fee?.kind).toBe('callback_fee');
      expect(await rows.get('cb-1')).toMatchObject({ chargeTransactionId: fee?.id });
      // The runner's record still says uncharged: the charge again, as the attempt ends.
      const again = await fees.charge({ ...live, state: 'connected', connectedAt: 1000 });
      expect(again).toMatchObject({ chargeKey: 'callback:cb-1', chargeTransactionId: fee?.id });
      const ledger = new PgCharges(direct, 'USD').ledger;
      expect((await ledger.account('advertiser:ad_1'))?.balance).toBe(-300);
      expect(await ledger.verify()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
