/**
 * The cases every gated store passes for the residents, their devices, the
 * audit log and the wrong-PIN counts (part of `gatedStoreContract`). With a
 * second gateway's store on the same database (PostgreSQL), what one writes
 * the other reads: a resident added through one is known to the other, a
 * device's SIP username registers through either, and a lockout counted on
 * one holds on the other, with wrong PINs counted at once on both all counted.
 */
import { describe, expect, it } from 'vitest';
import type { CallingHours } from '../../config/index.js';
import type { StoredDevice, StoredResident } from '../types.js';
import type { GatedStorePair } from './store-contract.js';

const T = 'facility';

export const resident = (id: string, o: Partial<StoredResident> = {}): StoredResident => ({
  tenant: T,
  id,
  name: `Resident ${id}`,
  number: null,
  status: 'active',
  devices: [],
  pinSet: true,
  pinHash: 'hash',
  createdAt: 1,
  updatedAt: 1,
  ...o,
});

export const device = (address: string, o: Partial<StoredDevice> = {}): StoredDevice => ({
  tenant: T,
  address,
  kind: 'sip',
  name: null,
  sipUser: `u-${o.tenant ?? T}-${address}`,
  enabled: true,
  callingHours: null,
  blockedUntil: null,
  realm: 'parley.test',
  ha1: { MD5: 'md5', 'SHA-256': 'sha' },
  credentialStamp: 'stamp-1',
  createdAt: 1,
  updatedAt: 1,
  ...o,
});

const POLICY = { maxFailures: 3, lockoutMs: 60_000 };

export function residentsContract(kind: string, make: () => Promise<GatedStorePair>): void {
  describe(`the ${kind} gated store: residents, devices, audit, PIN counts`, () => {
    it('keeps devices by address and SIP username, updated in place, tenants apart', async () => {
      const { store } = await make();
      const hours: CallingHours = { timeZone: 'UTC', weekly: { mon: [['08:00', '20:00']] } };
      await store.devices.put(device('cell-2', { kind: 'app', callingHours: hours }));
      await store.devices.put(device('cell-1', { blockedUntil: 99, enabled: false }));
      await store.devices.put(device('cell-1', { tenant: 'other' }));
      expect(await store.devices.get(T, 'cell-2')).toEqual(
        device('cell-2', { kind: 'app', callingHours: hours }),
      );
      expect((await store.devices.bySipUser(`u-${T}-cell-1`))?.enabled).toBe(false);
      expect((await store.devices.bySipUser('u-other-cell-1'))?.tenant).toBe('other');
      await store.devices.put(device('cell-1', { name: 'Kitchen', updatedAt: 2 }));
      expect(await store.devices.get(T, 'cell-1')).toMatchObject({
        name: 'Kitchen',
        enabled: true,
        blockedUntil: null,
        updatedAt: 2,
      });
      const first = await store.devices.list(T, { limit: 1 });
      expect(first.items.map((d) => d.address)).toEqual(['cell-1']);
      expect(
        await store.devices.list(T, { limit: 1, after: first.next ?? undefined }),
      ).toMatchObject({ items: [{ address: 'cell-2' }], next: null });
      expect(await store.devices.delete(T, 'cell-1')).toBe(true);
      expect(await store.devices.delete(T, 'cell-1')).toBe(false);
      expect(await store.devices.get('other', 'cell-1')).toBeDefined();
    });

    it('keeps residents with their devices, links replaced, gone with a device', async () => {
      const { store } = await make();
      for (const a of ['cell-1', 'cell-2', 'cell-3']) await store.devices.put(device(a));
      await store.residents.put(resident('r-2', { devices: ['cell-2', 'cell-1'], number: '1002' }));
      await store.residents.put(resident('r-1', { devices: ['cell-1'], pinHash: null }));
      await store.residents.put(resident('r-1', { tenant: 'other', number: '1002' }));
      expect(await store.residents.get(T, 'r-2')).toEqual(
        resident('r-2', { devices: ['cell-1', 'cell-2'], number: '1002' }),
      );
      expect((await store.residents.byNumber(T, '1002'))?.id).toBe('r-2');
      expect((await store.residents.byNumber('other', '1002'))?.tenant).toBe('other');
      // Whether a PIN is set follows its hash.
      expect((await store.residents.get(T, 'r-1'))?.pinSet).toBe(false);
      expect(await store.residents.ofDevice(T, 'cell-1')).toEqual(['r-1', 'r-2']);
      await store.residents.put(
        resident('r-2', { devices: ['cell-3', 'cell-2'], status: 'inactive', updatedAt: 5 }),
      );
      expect(await store.residents.get(T, 'r-2')).toMatchObject({
        devices: ['cell-2', 'cell-3'],
        status: 'inactive',
        number: null,
        updatedAt: 5,
      });
      expect(await store.residents.ofDevice(T, 'cell-1')).toEqual(['r-1']);
      await store.devices.delete(T, 'cell-2');
      expect((await store.residents.get(T, 'r-2'))?.devices).toEqual(['cell-3']);
      const first = await store.residents.list(T, { limit: 1 });
      expect(first.items.map((r) => r.id)).toEqual(['r-1']);
      expect(
        await store.residents.list(T, { limit: 1, after: first.next ?? undefined }),
      ).toMatchObject({ items: [{ id: 'r-2' }], next: null });
      expect(await store.residents.delete(T, 'r-1')).toBe(true);
      expect(await store.residents.delete(T, 'r-1')).toBe(false);
      expect(await store.residents.ofDevice(T, 'cell-1')).toEqual([]);
    });

    it('writes a change and its audit entry together or not at all', async () => {
      const { store } = await make();
      await store.devices.put(device('cell-1'));
      const entry = { tenant: T, at: 1, actor: 'api:k', entity: 'resident' as const };
      await store.transaction(async (tx) => {
        await tx.residents.put(resident('r-1', { devices: ['cell-1'] }));
        await tx.audit.append({
          ...entry,
          action: 'resident.create',
          entityId: 'r-1',
          before: null,
          after: { a: 1 },
        });
      });
      await expect(
        store.transaction(async (tx) => {
          await tx.residents.put(resident('r-2'));
          await tx.audit.append({
            ...entry,
            action: 'resident.create',
            entityId: 'r-2',
            before: null,
            after: {},
          });
          await tx.residents.put(resident('r-3', { devices: ['no-such-device'] }));
        }),
      ).rejects.toThrow();
      expect(await store.residents.get(T, 'r-1')).toBeDefined();
      expect(await store.residents.get(T, 'r-2')).toBeUndefined();
      expect((await store.audit.list(T, { limit: 10 })).map((e) => e.entityId)).toEqual(['r-1']);
    });

    it('lists the audit log newest first, by entity, in pages, tenants apart', async () => {
      const { store } = await make();
      const entry = { tenant: T, at: 1, actor: 'api:k', entity: 'account' as const };
      await store.audit.append({
        ...entry,
        entityId: 'acc-1',
        action: 'account.create',
        before: null,
        after: { name: 'A' },
      });
      await store.audit.append({
        ...entry,
        entityId: 'acc-1',
        action: 'account.update',
        before: { name: 'A' },
        after: { name: 'B' },
      });
      await store.audit.append({
        ...entry,
        entityId: 'acc-2',
        action: 'account.create',
        before: null,
        after: {},
      });
      await store.audit.append({
        ...entry,
        tenant: 'other',
        entityId: 'acc-1',
        action: 'account.create',
        before: null,
        after: {},
      });
      const list = await store.audit.list(T, { entity: 'account', entityId: 'acc-1', limit: 10 });
      expect(list.map((e) => [e.action, e.before, e.after])).toEqual([
        ['account.update', { name: 'A' }, { name: 'B' }],
        ['account.create', null, { name: 'A' }],
      ]);
      const page = await store.audit.list(T, { limit: 2 });
      expect(page.map((e) => e.entityId)).toEqual(['acc-2', 'acc-1']);
      const next = await store.audit.list(T, { before: page.at(-1)?.seq, limit: 2 });
      expect(next.map((e) => e.action)).toEqual(['account.create']);
      expect(await store.audit.list(T, { entity: 'resident', limit: 10 })).toEqual([]);
    });

    it('counts wrong PINs, locks at the limit, starts again after the lockout, clears', async () => {
      const { store } = await make();
      const s = 'device:facility/cell-1';
      expect(await store.pinAttempts.get(s)).toBeUndefined();
      expect(await store.pinAttempts.fail(s, 10, POLICY)).toEqual({
        failures: 1,
        lastFailureAt: 10,
        lockedUntil: null,
      });
      expect(await store.pinAttempts.fail(s, 20, POLICY)).toMatchObject({
        failures: 2,
        lockedUntil: null,
      });
      expect(await store.pinAttempts.fail(s, 30, POLICY)).toEqual({
        failures: 3,
        lastFailureAt: 30,
        lockedUntil: 60_030,
      });
      expect(await store.pinAttempts.get(s)).toEqual({
        failures: 3,
        lastFailureAt: 30,
        lockedUntil: 60_030,
      });
      // The lockout is over: the next wrong PIN is the first of a new count.
      expect(await store.pinAttempts.fail(s, 60_030, POLICY)).toEqual({
        failures: 1,
        lastFailureAt: 60_030,
        lockedUntil: null,
      });
      expect(await store.pinAttempts.fail(s, 1, { maxFailures: 1, lockoutMs: 5 })).toMatchObject({
        failures: 2,
        lockedUntil: 6,
      });
      await store.pinAttempts.clear(s);
      expect(await store.pinAttempts.get(s)).toBeUndefined();
      expect(await store.pinAttempts.fail(s, 7, { maxFailures: 1, lockoutMs: 5 })).toEqual({
        failures: 1,
        lastFailureAt: 7,
        lockedUntil: 12,
      });
    });

    it('shares residents, devices and lockouts with another gateway (shared stores)', async () => {
      const { store, other } = await make();
      if (!other) return; // one gateway per SQLite file
      await store.devices.put(device('cell-1'));
      await store.residents.put(resident('r-1', { devices: ['cell-1'], number: '1001' }));
      expect(await other.residents.get(T, 'r-1')).toEqual(
        resident('r-1', { devices: ['cell-1'], number: '1001' }),
      );
      expect((await other.residents.byNumber(T, '1001'))?.id).toBe('r-1');
      expect((await other.devices.bySipUser(`u-${T}-cell-1`))?.address).toBe('cell-1');
      await other.transaction(async (tx) => {
        await tx.residents.delete(T, 'r-1');
        await tx.audit.append({
          tenant: T,
          at: 2,
          actor: 'api:k',
          action: 'resident.delete',
          entity: 'resident',
          entityId: 'r-1',
          before: null,
          after: null,
        });
      });
      expect(await store.residents.get(T, 'r-1')).toBeUndefined();
      expect((await store.audit.list(T, { limit: 1 }))[0]?.action).toBe('resident.delete');
      // Wrong PINs on both gateways at once: every one counts, and the lockout holds on both.
      const s = 'resident:facility/r-1';
      const policy = { maxFailures: 10, lockoutMs: 60_000 };
      const states = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : store).pinAttempts.fail(s, 100, policy),
        ),
      );
      expect(states.map((x) => x.failures).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 10 }, (_, i) => i + 1),
      );
      expect(states.filter((x) => x.lockedUntil !== null)).toHaveLength(1);
      expect(await store.pinAttempts.get(s)).toEqual({
        failures: 10,
        lastFailureAt: 100,
        lockedUntil: 60_100,
      });
      expect(await other.pinAttempts.get(s)).toEqual({
        failures: 10,
        lastFailureAt: 100,
        lockedUntil: 60_100,
      });
      await other.pinAttempts.clear(s);
      expect(await store.pinAttempts.get(s)).toBeUndefined();
    });
  });
}
