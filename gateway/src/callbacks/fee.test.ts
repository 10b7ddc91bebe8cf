/**
 * The callback fee on a real SQLite database with the real ledger: charged
 * once whatever the repeats, and a crash inside the charge's transaction
 * leaves nothing, so that the recovery charges it once.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA, SqliteLedgerStore } from '../ledger/index.js';
import { openDatabase } from '../storage/index.js';
import { CallbackFees } from './fee.js';
import type { CallbackBilling } from './marketplace-ports.js';
import type { CallbackRecord } from './model.js';
import { CALLBACKS_SCHEMA } from './schema.js';
import { SqliteCallbackStore } from './sqlite-store.js';

function setup() {
  const db = openDatabase(':memory:', [LEDGER_SCHEMA, CALLBACKS_SCHEMA]);
  const ledger = new SqliteLedgerStore(db);
  const store = new SqliteCallbackStore(db);
  for (const [id, kind] of [
    ['advertiser:ad1', 'advertiser'],
    ['platform:acme', 'platform'],
  ] as const)
    ledger.openAccount({ id, tenant: 'acme', kind, currency: 'USD', at: 0 });
  const billing: CallbackBilling = {
    ledger: 'local',
    available: (id) =>
      id === 'ad1' ? 10_000 + (ledger.account('advertiser:ad1')?.balance ?? 0) : undefined,
    post: (input) => {
      const posted = ledger.post({
        key: input.key,
        tenant: input.tenant,
        kind: 'callback_fee',
        postings: [
          { account: `advertiser:${input.advertiserId}`, amount: -input.amountCents },
          { account: `platform:${input.tenant}`, amount: input.amountCents },
        ],
        at: input.at,
      });
      return { transactionId: posted.transaction.id, duplicate: posted.duplicate };
    },
    fundsChanged: () => undefined,
  };
  return { db, ledger, store, billing };
}

function record(id: string): CallbackRecord {
  return {
    id,
    tenant: 'acme',
    destination: 'sales',
    listingId: null,
    advertiserId: 'ad1',
    advertiserName: 'Bob',
    target: { kind: 'queue', queue: 'sales' },
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
    feeCents: 250,
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

const fees = (ledger: SqliteLedgerStore) =>
  ledger.list({ account: 'advertiser:ad1', limit: 100 }).filter((t) => t.kind === 'callback_fee');

describe('CallbackFees', () => {
  it('charges a connected callback once, however often it is asked', async () => {
    const { store, ledger, billing } = setup();
    const cb = new CallbackFees({ store, billing, now: () => 1000 });
    await store.insert(record('c1'), 'hash');
    const charged = await cb.connected(record('c1'), 1000);
    expect(charged.chargeKey).toBe('callback:c1');
    await cb.charge(charged);
    await cb.charge((await store.get('c1'))!);
    expect(fees(ledger)).toHaveLength(1);
    expect(ledger.account('advertiser:ad1')?.balance).toBe(-250);
    expect(ledger.verify()).toEqual([]);
  });

  it('leaves no trace of a charge that crashed before its commit; the retry charges once', async () => {
    const { store, ledger, billing } = setup();
    let crash = true;
    const cb = new CallbackFees({
      store,
      billing,
      now: () => 1000,
      beforeCommit: () => {
        if (crash) throw new Error('crash inside the transaction');
      },
    });
    await store.insert(record('c2'), 'hash');
    await expect(cb.connected(record('c2'), 1000)).rejects.toThrow(/crash/);
    // The connection was written (its own transaction); the charge was not.
    const stored = (await store.get('c2'))!;
    expect(stored.connectedAt).toBe(1000);
    expect(stored.chargedAt).toBeNull();
    expect(fees(ledger)).toHaveLength(0);
    crash = false;
    await cb.charge(stored);
    await cb.charge((await store.get('c2'))!);
    expect(fees(ledger)).toHaveLength(1);
    expect((await store.get('c2'))?.chargeTransactionId).toBe(fees(ledger)[0]?.id);
  });

  it('lets an advertiser that cannot pay go uncalled', () => {
    const { store, billing } = setup();
    const cb = new CallbackFees({ store, billing, now: () => 0 });
    expect(cb.canPay(record('c3'))).toBe(true);
    expect(cb.canPay({ ...record('c3'), feeCents: 20_000 })).toBe(false);
    expect(cb.canPay({ ...record('c3'), advertiserId: 'nobody' })).toBe(false);
    expect(cb.canPay({ ...record('c3'), feeCents: 0, advertiserId: 'nobody' })).toBe(true);
  });
});
