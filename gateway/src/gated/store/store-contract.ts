/**
 * The cases every gated store passes for what the Gate and the money need
 * (accounts, approvals, credits, meters and charges, decisions; the
 * residents, devices, audit log and PIN counts in `residents-contract.ts`):
 * run on SQLite by `store.test.ts` and on a real PostgreSQL by
 * `postgres/stores.postgres.test.ts`, where a second gateway's store on the
 * same database also shows what stays each gateway's own (the meters a
 * restart closes) and what they share.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../decision.js';
import type { StoredAccount } from '../types.js';
import { residentsContract } from './residents-contract.js';
import type { GatedStore } from './store.js';

export interface GatedStorePair {
  /** Gateway `gw-a`'s store. */
  readonly store: GatedStore;
  /** Gateway `gw-b`'s store on the same database (PostgreSQL only). */
  readonly other?: GatedStore | undefined;
}

const T = 'facility';

export const account = (id: string, o: Partial<StoredAccount> = {}): StoredAccount => ({
  tenant: T,
  id,
  number: `9${id.replace(/\D/g, '').padStart(9, '0')}`,
  name: `Caller ${id}`,
  phones: [],
  webLogin: null,
  ratePerMinute: 10,
  balance: 0,
  status: 'active',
  pinSet: false,
  pinHash: null,
  createdAt: 1,
  updatedAt: 1,
  ...o,
});

const credit = (accountId: string, key: string, amount: number) => ({
  tenant: T,
  accountId,
  key,
  amount,
  note: null,
  actor: 'api:test',
  at: 1,
});

const decision = (id: string, at: number, o: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id,
  tenant: T,
  callId: 'call-1',
  stage: 'authorize',
  at,
  allowed: true,
  decidedBy: 'builtin',
  checks: [{ name: 'caller_account', ok: true, detail: 'account number' }],
  failed: null,
  accountId: 'acc-1',
  residentId: 'r-1',
  devices: [],
  callerName: 'Caller',
  ratePerMinute: 10,
  balance: 100,
  durationUs: 12,
  ...o,
});

export function gatedStoreContract(kind: string, make: () => Promise<GatedStorePair>): void {
  describe(`the ${kind} gated store`, () => {
    it('finds an account by id, number, verified phone and web login, tenants apart', async () => {
      const { store } = await make();
      await store.accounts.insert(
        account('acc-1', {
          phones: [
            { number: '+14155550001', verifiedAt: 5 },
            { number: '+14155550002', verifiedAt: null },
          ],
          webLogin: 'one@example.org',
          pinHash: 'hash',
          pinSet: true,
        }),
      );
      await store.accounts.insert(account('acc-1', { tenant: 'other', number: '1234' }));
      expect(await store.accounts.get(T, 'acc-1')).toEqual(
        account('acc-1', {
          phones: [
            { number: '+14155550001', verifiedAt: 5 },
            { number: '+14155550002', verifiedAt: null },
          ],
          webLogin: 'one@example.org',
          pinHash: 'hash',
          pinSet: true,
        }),
      );
      expect((await store.accounts.byNumber(T, '9000000001'))?.id).toBe('acc-1');
      expect((await store.accounts.byVerifiedPhone(T, '+14155550001'))?.id).toBe('acc-1');
      // An unverified number names nobody.
      expect(await store.accounts.byVerifiedPhone(T, '+14155550002')).toBeUndefined();
      expect((await store.accounts.byWebLogin(T, 'one@example.org'))?.id).toBe('acc-1');
      expect(await store.accounts.byNumber('other', '9000000001')).toBeUndefined();
      expect((await store.accounts.get('other', 'acc-1'))?.number).toBe('1234');
      expect(await store.accounts.phoneHolder(T, '+14155550002')).toBe('acc-1');
      expect(await store.accounts.phoneHolder(T, '+14155550002', 'acc-1')).toBeUndefined();
      expect(await store.accounts.phoneHolder('other', '+14155550002')).toBeUndefined();
    });

    it('updates everything but the balance, phones replaced, and pages in id order', async () => {
      const { store } = await make();
      for (const id of ['acc-3', 'acc-1', 'acc-2']) await store.accounts.insert(account(id));
      await store.billing.credit(credit('acc-1', 'k', 50));
      await store.accounts.update(
        account('acc-1', {
          name: 'Renamed',
          phones: [{ number: '+14155550009', verifiedAt: 7 }],
          status: 'suspended',
          ratePerMinute: 20,
          balance: 999_999, // ignored: only credits and charges move it
          updatedAt: 2,
        }),
      );
      expect(await store.accounts.get(T, 'acc-1')).toMatchObject({
        name: 'Renamed',
        phones: [{ number: '+14155550009', verifiedAt: 7 }],
        status: 'suspended',
        ratePerMinute: 20,
        balance: 50,
        updatedAt: 2,
      });
      const first = await store.accounts.list(T, { limit: 2 });
      expect(first.items.map((a) => a.id)).toEqual(['acc-1', 'acc-2']);
      const second = await store.accounts.list(T, { limit: 2, after: first.next ?? undefined });
      expect(second).toMatchObject({ items: [{ id: 'acc-3' }], next: null });
    });

    it('keeps approvals per account and resident, gone with their resident', async () => {
      const { store } = await make();
      await store.accounts.insert(account('acc-1'));
      for (const id of ['r-1', 'r-2'])
        await store.residents.put({
          tenant: T,
          id,
          name: id,
          number: null,
          status: 'active',
          devices: [],
          pinSet: false,
          pinHash: null,
          createdAt: 1,
          updatedAt: 1,
        });
      const approval = {
        tenant: T,
        accountId: 'acc-1',
        residentId: 'r-1',
        status: 'pending' as const,
        decidedAt: null,
        decidedBy: null,
      };
      await store.accounts.setApproval(approval);
      await store.accounts.setApproval({ ...approval, residentId: 'r-2' });
      await store.accounts.setApproval({
        ...approval,
        status: 'approved',
        decidedAt: 3,
        decidedBy: 'api:k',
      });
      expect(await store.accounts.approval(T, 'acc-1', 'r-1')).toMatchObject({
        status: 'approved',
        decidedAt: 3,
        decidedBy: 'api:k',
      });
      expect((await store.accounts.approvals(T, 'acc-1')).map((a) => a.residentId)).toEqual([
        'r-1',
        'r-2',
      ]);
      expect(await store.accounts.deleteApproval(T, 'acc-1', 'r-2')).toBe(true);
      expect(await store.accounts.deleteApproval(T, 'acc-1', 'r-2')).toBe(false);
      await store.residents.delete(T, 'r-1');
      await store.accounts.deleteResidentApprovals(T, 'r-1');
      expect(await store.accounts.approvals(T, 'acc-1')).toEqual([]);
    });

    it('credits once per key, refuses to go below zero, and tells a reused key', async () => {
      const { store } = await make();
      await store.accounts.insert(account('acc-1'));
      const c = credit('acc-1', 'topup-1', 500);
      expect(await store.billing.credit(c)).toEqual({ ok: true, balance: 500, duplicate: false });
      expect(await store.billing.credit(c)).toEqual({ ok: true, balance: 500, duplicate: true });
      expect(await store.billing.credit({ ...c, amount: 700 })).toEqual({
        ok: false,
        reason: 'key_reused',
      });
      expect(await store.billing.credit(credit('acc-1', 'refund-9', -501))).toEqual({
        ok: false,
        reason: 'insufficient',
      });
      expect(await store.billing.credit(credit('acc-none', 'x', 5))).toEqual({
        ok: false,
        reason: 'no_account',
      });
      // The refused credits left no key: used again, they count.
      expect(await store.billing.credit(credit('acc-1', 'refund-9', -500))).toEqual({
        ok: true,
        balance: 0,
        duplicate: false,
      });
      expect((await store.accounts.get(T, 'acc-1'))?.balance).toBe(0);
    });

    it('charges a call’s minutes once each, in order, and opens its meter with the first', async () => {
      const { store } = await make();
      await store.accounts.insert(account('acc-2'));
      await store.billing.credit(credit('acc-2', 'k', 25));
      const meter = { callId: 'call-1', tenant: T, accountId: 'acc-2', ratePerMinute: 10 };
      const open = { ...meter, connectedAt: 1000 };
      expect(await store.billing.openMeter(open)).toEqual({
        ok: true,
        balance: 15,
        duplicate: false,
      });
      expect(await store.billing.openMeter(open)).toEqual({
        ok: true,
        balance: 15,
        duplicate: true,
      });
      const minute = (n: number) => ({
        tenant: T,
        accountId: 'acc-2',
        callId: 'call-1',
        minute: n,
        amount: 10,
        at: 2000,
      });
      expect(await store.billing.chargeMinute(minute(2))).toEqual({
        ok: true,
        balance: 5,
        duplicate: false,
      });
      expect(await store.billing.chargeMinute(minute(2))).toEqual({
        ok: true,
        balance: 5,
        duplicate: true,
      });
      await expect(store.billing.chargeMinute(minute(4))).rejects.toThrow(/out of order/);
      expect(await store.billing.chargeMinute(minute(3))).toEqual({
        ok: false,
        reason: 'insufficient',
      });
      const charges = await store.billing.charges(T, 'call-1');
      expect(charges.map((c) => [c.minute, c.balanceAfter])).toEqual([
        [1, 15],
        [2, 5],
      ]);
      expect(await store.billing.charges('other', 'call-1')).toEqual([]);
      expect(
        (await store.billing.accountCharges(T, 'acc-2', 10)).map((c) => [c.minute, c.at]),
      ).toEqual([
        [2, 2000],
        [1, 1000],
      ]);
      expect(await store.billing.meter('call-1')).toMatchObject({
        ...meter,
        connectedAt: 1000,
        minutesCharged: 2,
        state: 'running',
      });
      expect(await store.billing.closeMeter('call-1', 3000, 'hangup')).toMatchObject({
        state: 'ended',
        endReason: 'hangup',
        endedAt: 3000,
      });
      // Closed once: a second close answers the first's reason.
      expect(await store.billing.closeMeter('call-1', 4000, 'other')).toMatchObject({
        endReason: 'hangup',
        endedAt: 3000,
      });
      expect(await store.billing.chargeMinute(minute(3))).toEqual({
        ok: false,
        reason: 'no_meter',
      });
      expect(await store.billing.closeMeter('call-none', 1, 'hangup')).toBeUndefined();
    });

    it('opens no meter when the first minute cannot be paid', async () => {
      const { store } = await make();
      await store.accounts.insert(account('acc-3'));
      const open = { callId: 'call-2', tenant: T, accountId: 'acc-3', ratePerMinute: 10 };
      expect(await store.billing.openMeter({ ...open, connectedAt: 1 })).toEqual({
        ok: false,
        reason: 'insufficient',
      });
      expect(await store.billing.meter('call-2')).toBeUndefined();
    });

    it('closes the meters a restart left running: only its own gateway’s', async () => {
      const { store, other } = await make();
      await store.accounts.insert(account('acc-1'));
      await store.billing.credit(credit('acc-1', 'k', 100));
      const open = { tenant: T, accountId: 'acc-1', ratePerMinute: 10, connectedAt: 1 };
      await store.billing.openMeter({ ...open, callId: 'mine' });
      await (other ?? store).billing.openMeter({ ...open, callId: 'theirs' });
      const closed = await store.billing.closeInterrupted(50);
      expect(closed.map((m) => [m.callId, m.state, m.endReason, m.minutesCharged]).sort()).toEqual(
        other
          ? [['mine', 'interrupted', 'gateway_restart', 1]]
          : [
              ['mine', 'interrupted', 'gateway_restart', 1],
              ['theirs', 'interrupted', 'gateway_restart', 1],
            ].sort(),
      );
      if (other) expect((await other.billing.meter('theirs'))?.state).toBe('running');
      expect(await store.billing.closeInterrupted(60)).toEqual([]);
      expect((await store.accounts.get(T, 'acc-1'))?.balance).toBe(80);
    });

    it('closes a lost gateway’s running meters once, for a survivor (shared stores)', async () => {
      const { store, other } = await make();
      if (!other) {
        // One gateway per SQLite file: nothing is another's to close.
        expect(store.billing.openOwners).toBeUndefined();
        return;
      }
      await store.accounts.insert(account('acc-1'));
      await store.billing.credit(credit('acc-1', 'k', 100));
      const open = { tenant: T, accountId: 'acc-1', ratePerMinute: 10, connectedAt: 1 };
      await store.billing.openMeter({ ...open, callId: 'mine' });
      await other.billing.openMeter({ ...open, callId: 'theirs' });
      const [lost] = await store.billing.openOwners!();
      expect(lost).toBeDefined();
      // A gateway never closes its own as lost.
      expect(await other.billing.closeLost!(lost!, 69)).toEqual([]);
      expect(await other.billing.openOwners!()).not.toContain(lost);
      const [first, second] = await Promise.all([
        store.billing.closeLost!(lost!, 70),
        store.billing.closeLost!(lost!, 71),
      ]);
      expect([...first!, ...second!].map((m) => [m.callId, m.state, m.endReason])).toEqual([
        ['theirs', 'interrupted', 'gateway_lost'],
      ]);
      expect((await store.billing.meter('mine'))?.state).toBe('running');
      expect(await store.billing.openOwners!()).toEqual([]);
      expect((await store.accounts.get(T, 'acc-1'))?.balance).toBe(80);
    });

    it('keeps decisions: by id, newest first, by call or account, tenants apart', async () => {
      const { store } = await make();
      await store.decisions.insert(decision('d-1', 10));
      await store.decisions.insert(decision('d-2', 20, { allowed: false, failed: 'balance' }));
      await store.decisions.insert(decision('d-3', 20, { callId: 'call-2', accountId: 'acc-2' }));
      await store.decisions.insert(decision('d-4', 5, { tenant: 'other' }));
      expect(await store.decisions.get(T, 'd-2')).toEqual(
        decision('d-2', 20, { allowed: false, failed: 'balance' }),
      );
      expect(await store.decisions.get('other', 'd-2')).toBeUndefined();
      const ids = (list: DecisionRecord[]) => list.map((d) => d.id);
      expect(ids(await store.decisions.list(T, { limit: 10 }))).toEqual(['d-3', 'd-2', 'd-1']);
      expect(ids(await store.decisions.list(T, { limit: 2 }))).toEqual(['d-3', 'd-2']);
      expect(ids(await store.decisions.list(T, { callId: 'call-1', limit: 10 }))).toEqual([
        'd-2',
        'd-1',
      ]);
      expect(ids(await store.decisions.list(T, { accountId: 'acc-2', limit: 10 }))).toEqual([
        'd-3',
      ]);
    });
  });
  residentsContract(kind, make);
}
