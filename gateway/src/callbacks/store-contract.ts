/**
 * The cases every callback store passes (the contract of `store.ts`): run
 * on SQLite by `store.test.ts`, and on a real PostgreSQL by
 * `stores.postgres.test.ts`, where a second gateway's store on the same
 * database also shows what is shared (every record, the rate limits' counts)
 * and what stays each gateway's own (its scheduled and interrupted ones).
 */
import { ParleyError } from '@parley/shared/errors';
import { describe, expect, it } from 'vitest';
import type { CallbackRecord } from './model.js';
import type { CallbackStore } from './store.js';

export interface StorePair {
  /** Gateway `gw-a`'s store. */
  readonly store: CallbackStore;
  /** Gateway `gw-b`'s store on the same database (PostgreSQL only). */
  readonly other?: CallbackStore | undefined;
}

export function callbackRecord(id: string, over: Partial<CallbackRecord> = {}): CallbackRecord {
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
    page: '/pricing',
    impressionId: null,
    tokenId: `jti-${id}`,
    mode: 'slot',
    dueAt: 5000,
    expiresAt: null,
    state: 'scheduled',
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
    privateClaims: { name: 'Ada' },
    createdAt: 1000,
    updatedAt: 1000,
    endedAt: null,
    ...over,
  };
}

export function callbackStoreContract(kind: string, make: () => Promise<StorePair>): void {
  describe(`the ${kind} callback store`, () => {
    it('keeps a record as it was given, and refuses its token twice', async () => {
      const { store, other } = await make();
      const r = callbackRecord('cb-1');
      await store.insert(r, 'hash-1');
      expect(await store.get('cb-1')).toEqual(r);
      expect(await store.watchHash('cb-1')).toBe('hash-1');
      expect(await store.get('nope')).toBeUndefined();
      const again = (other ?? store).insert(callbackRecord('cb-2', { tokenId: r.tokenId }), 'h');
      await expect(again).rejects.toThrow(ParleyError);
      await expect(again).rejects.toMatchObject({ code: 'replayed' });
      // Another gateway's store reads it (PostgreSQL: one database).
      if (other) expect(await other.get('cb-1')).toEqual(r);
    });

    it('moves a scheduled callback to calling once, and never an ended one', async () => {
      const { store } = await make();
      await store.insert(callbackRecord('cb-1'), 'h');
      const calling = callbackRecord('cb-1', { state: 'calling', updatedAt: 2000 });
      const claims = await Promise.all([store.claim(calling, 't1'), store.claim(calling, 't2')]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await store.get('cb-1'))?.state).toBe('calling');
      await store.insert(callbackRecord('cb-2', { tokenId: 'j2' }), 'h');
      const cancelled = callbackRecord('cb-2', {
        tokenId: 'j2',
        state: 'ended',
        outcome: 'cancelled',
      });
      expect(await store.saveIf(cancelled, 'scheduled')).toBe(true);
      const late = callbackRecord('cb-2', { tokenId: 'j2', state: 'calling' });
      expect(await store.claim(late, 't3')).toBe(false);
      expect(await store.claim(late, 't3', true)).toBe(false);
      expect(await store.saveIf(cancelled, 'scheduled')).toBe(false);
      expect((await store.get('cb-2'))?.outcome).toBe('cancelled');
    });

    it('writes the changing fields, never the charge; charges once', async () => {
      const { store } = await make();
      await store.insert(callbackRecord('cb-1'), 'h');
      const connected = callbackRecord('cb-1', {
        state: 'connected',
        connectedAt: 3000,
        attempts: [],
        dialogs: [],
        updatedAt: 3000,
      });
      await store.save({ ...connected, chargedAt: 1, chargeKey: 'x' });
      expect(await store.get('cb-1')).toMatchObject({ connectedAt: 3000, chargedAt: null });
      expect(await store.uncharged()).toEqual([]);
      await store.save({ ...connected, state: 'ended', endedAt: 4000 });
      expect((await store.uncharged()).map((r) => r.id)).toEqual(['cb-1']);
      const charge = { at: 4500, key: 'callback:cb-1', transactionId: 7 };
      expect(await store.markCharged('cb-1', charge)).toBe(true);
      expect(await store.markCharged('cb-1', { ...charge, at: 9 })).toBe(false);
      expect(await store.get('cb-1')).toMatchObject({
        chargedAt: 4500,
        chargeKey: 'callback:cb-1',
        chargeTransactionId: 7,
      });
      expect(await store.uncharged()).toEqual([]);
    });

    it('never takes a connection back: an older record written late keeps it', async () => {
      const { store, other } = await make();
      await store.insert(callbackRecord('cb-1', { state: 'calling' }), 'h');
      const connecting = callbackRecord('cb-1', { state: 'connecting', updatedAt: 2000 });
      await store.save({ ...connecting, state: 'connected', connectedAt: 3000, updatedAt: 3000 });
      // The runner's write of the record before the connection, landing after it (another connection).
      await (other ?? store).save(connecting);
      expect(await store.get('cb-1')).toMatchObject({ connectedAt: 3000 });
      await store.save({ ...connecting, state: 'ended', endedAt: 4000 });
      // Ended connected and uncharged: the recovery finds it, and the charge goes through.
      expect((await store.uncharged()).map((r) => r.id)).toEqual(['cb-1']);
      expect(await store.markCharged('cb-1', { at: 4500, key: 'k', transactionId: null })).toBe(
        true,
      );
    });

    it('never writes over an ended callback (a survivor ended it)', async () => {
      const { store, other } = await make();
      await store.insert(callbackRecord('cb-1', { state: 'calling' }), 'h');
      const ended = callbackRecord('cb-1', {
        state: 'ended',
        outcome: 'interrupted',
        endedAt: 3000,
      });
      expect(await (other ?? store).saveIf(ended, 'calling')).toBe(true);
      // The gateway judged lost was still running it: its late write changes nothing.
      await store.save(callbackRecord('cb-1', { state: 'prompting', updatedAt: 4000 }));
      expect(await store.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'interrupted' });
    });

    it('stores a callback only within its limits, counted with the insert', async () => {
      const { store, other } = await make();
      const limits = (max: number) => ({
        perNumber: { since: 0, max },
        perSession: { tenant: 'acme', sessionId: 's1', since: 0, max: 10 },
      });
      await store.insert(callbackRecord('cb-1'), 'h', limits(2));
      await (other ?? store).insert(callbackRecord('cb-2', { tokenId: 'j2' }), 'h', limits(2));
      const over = store.insert(callbackRecord('cb-3', { tokenId: 'j3' }), 'h', limits(2));
      await expect(over).rejects.toMatchObject({ code: 'rate_limited' });
      expect(await store.get('cb-3')).toBeUndefined();
      const session = { ...limits(10), perSession: { ...limits(10).perSession, max: 2 } };
      const bySession = store.insert(callbackRecord('cb-4', { tokenId: 'j4' }), 'h', session);
      await expect(bySession).rejects.toMatchObject({ code: 'rate_limited' });
    });

    it('lists, pages and counts across gateways; schedules and interrupts its own', async () => {
      const { store, other } = await make();
      const b = other ?? store;
      await store.insert(callbackRecord('cb-1', { createdAt: 1000 }), 'h');
      await b.insert(callbackRecord('cb-2', { tokenId: 'j2', createdAt: 2000, dueAt: 100 }), 'h');
      await store.insert(
        callbackRecord('cb-3', { tokenId: 'j3', createdAt: 3000, tenant: 'other' }),
        'h',
      );
      await store.save(
        callbackRecord('cb-3', { tokenId: 'j3', tenant: 'other', state: 'prompting' }),
      );
      expect((await store.list({ limit: 10 })).map((r) => r.id)).toEqual(['cb-3', 'cb-2', 'cb-1']);
      expect((await b.list({ limit: 10, tenant: 'acme' })).map((r) => r.id)).toEqual([
        'cb-2',
        'cb-1',
      ]);
      expect((await b.list({ limit: 1, before: 3000 })).map((r) => r.id)).toEqual(['cb-2']);
      expect((await b.list({ limit: 5, state: 'prompting' })).map((r) => r.id)).toEqual(['cb-3']);
      expect(await b.countForNumber('+14155550123', 1500)).toBe(2);
      expect(await store.countForSession('acme', 's1', 0)).toBe(2);
      expect((await store.inProgress()).map((r) => r.id)).toEqual(['cb-3']);
      if (other) {
        // Each gateway runs and closes its own: B's scheduler has cb-2, A's cb-1.
        expect((await store.scheduled()).map((r) => r.id)).toEqual(['cb-1']);
        expect((await other.scheduled()).map((r) => r.id)).toEqual(['cb-2']);
        expect(await other.inProgress()).toEqual([]);
      } else expect((await store.scheduled()).map((r) => r.id)).toEqual(['cb-2', 'cb-1']);
    });
  });
}
