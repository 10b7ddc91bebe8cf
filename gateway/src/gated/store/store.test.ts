/**
 * The gated store on SQLite: 100,000 accounts, every call-path lookup answered
 * from an index (the query plans say SEARCH, never a SCAN of a table), money
 * that never goes below zero or moves twice for one key, tenants that never
 * see each other's rows, and the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../storage/index.js';
import type { StoredAccount } from '../types.js';
import { GATED_SCHEMA } from './schema.js';
import { createSqliteGatedStore } from './sqlite-gated-store.js';
import type { GatedStore } from './store.js';

const ACCOUNTS = 100_000;
const T = 'facility';
let db: SqliteDatabase;
let store: GatedStore;
const prepared: string[] = [];

const account = (i: number, tenant = T): StoredAccount => ({
  tenant,
  id: `acc-${String(i).padStart(6, '0')}`,
  number: String(1_000_000_000 + i),
  name: `Caller ${i}`,
  phones: [{ number: `+1415${String(i).padStart(7, '0')}`, verifiedAt: i % 2 === 0 ? 1 : null }],
  webLogin: i % 3 === 0 ? `user${i}@example.org` : null,
  ratePerMinute: 10,
  balance: 0,
  status: 'active',
  pinSet: false,
  pinHash: null,
  createdAt: 1,
  updatedAt: 1,
});

beforeAll(() => {
  db = openDatabase(':memory:', [GATED_SCHEMA]);
  // Every statement the store prepares is collected, to read its query plan below.
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  store = createSqliteGatedStore(db);
  db.transaction(() => {
    for (let i = 0; i < ACCOUNTS; i += 1) store.accounts.insert(account(i));
  })();
  store.accounts.insert(account(5, 'other-facility'));
  // 100,000 inserts take seconds, more on a loaded machine: the hook may take its time.
}, 180_000);

afterAll(() => db.close());

describe('the gated store with 100,000 accounts', () => {
  it('finds an account by number, verified phone, web login and id', () => {
    expect(store.accounts.byNumber(T, '1000054321')?.id).toBe('acc-054321');
    expect(store.accounts.byVerifiedPhone(T, '+14150054322')?.id).toBe('acc-054322');
    // An unverified number names nobody.
    expect(store.accounts.byVerifiedPhone(T, '+14150054321')).toBeUndefined();
    expect(store.accounts.byWebLogin(T, 'user54321@example.org')?.id).toBe('acc-054321');
    expect(store.accounts.get(T, 'acc-099999')?.phones).toEqual([
      { number: '+14150099999', verifiedAt: null },
    ]);
  });

  it('keeps tenants apart: the same id, number and phone in another tenant are another account', () => {
    expect(store.accounts.get('other-facility', 'acc-000005')?.tenant).toBe('other-facility');
    expect(store.accounts.byNumber('other-facility', '1000000006')).toBeUndefined();
    expect(store.accounts.byVerifiedPhone('nobody', '+14150000004')).toBeUndefined();
    expect(store.accounts.phoneHolder(T, '+14150000005')).toBe('acc-000005');
    expect(store.accounts.phoneHolder(T, '+14150000005', 'acc-000005')).toBeUndefined();
  });

  it('pages through a tenant in id order', () => {
    const first = store.accounts.list(T, { limit: 3 });
    expect(first.items.map((a) => a.id)).toEqual(['acc-000000', 'acc-000001', 'acc-000002']);
    const second = store.accounts.list(T, { limit: 2, after: first.next ?? undefined });
    expect(second.items.map((a) => a.id)).toEqual(['acc-000003', 'acc-000004']);
    expect(store.accounts.list(T, { limit: 5, after: 'acc-099998' })).toMatchObject({
      items: [{ id: 'acc-099999' }],
      next: null,
    });
  });

  it('answers every statement it prepares from an index or a key, never by scanning a table', () => {
    const plans: string[] = [];
    for (const sql of new Set(prepared)) {
      if (!/^\s*(SELECT|UPDATE|DELETE)/i.test(sql) && !/^\s*INSERT[\s\S]*SELECT/i.test(sql))
        continue;
      const names = [...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!);
      const positional = (sql.match(/\?/g) ?? []).length;
      const explain = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      const rows = (
        names.length > 0
          ? explain.all(Object.fromEntries(names.map((n) => [n, 'x'])))
          : explain.all(...Array.from({ length: positional }, () => 'x'))
      ) as { detail: string }[];
      const plan = rows.map((r) => r.detail).join(' | ');
      plans.push(plan);
      expect(plan, sql).not.toMatch(/\bSCAN gated_\w+(?! USING (COVERING )?INDEX)/);
    }
    expect(plans.length).toBeGreaterThan(20);
  });
});

describe('balances', () => {
  it('credits once per key, refuses to go below zero, and tells a reused key', () => {
    const c = { tenant: T, accountId: 'acc-000001', note: null, actor: 'api:test', at: 1 };
    expect(store.billing.credit({ ...c, key: 'topup-1', amount: 500 })).toEqual({
      ok: true,
      balance: 500,
      duplicate: false,
    });
    expect(store.billing.credit({ ...c, key: 'topup-1', amount: 500 })).toEqual({
      ok: true,
      balance: 500,
      duplicate: true,
    });
    expect(store.billing.credit({ ...c, key: 'topup-1', amount: 700 })).toEqual({
      ok: false,
      reason: 'key_reused',
    });
    expect(store.billing.credit({ ...c, key: 'refund-9', amount: -501 })).toEqual({
      ok: false,
      reason: 'insufficient',
    });
    expect(store.billing.credit({ ...c, key: 'x', accountId: 'acc-none', amount: 5 })).toEqual({
      ok: false,
      reason: 'no_account',
    });
    expect(store.accounts.get(T, 'acc-000001')?.balance).toBe(500);
  });

  it('charges a call’s minutes once each, in order, and opens its meter with the first', () => {
    store.billing.credit({
      tenant: T,
      accountId: 'acc-000002',
      key: 'k',
      amount: 25,
      note: null,
      actor: 't',
      at: 1,
    });
    const meter = {
      callId: 'call-1',
      tenant: T,
      accountId: 'acc-000002',
      ratePerMinute: 10,
      connectedAt: 1000,
    };
    expect(store.billing.openMeter(meter)).toEqual({ ok: true, balance: 15, duplicate: false });
    expect(store.billing.openMeter(meter)).toEqual({ ok: true, balance: 15, duplicate: true });
    const minute = (n: number) => ({
      tenant: T,
      accountId: 'acc-000002',
      callId: 'call-1',
      minute: n,
      amount: 10,
      at: 2000,
    });
    expect(store.billing.chargeMinute(minute(2))).toEqual({
      ok: true,
      balance: 5,
      duplicate: false,
    });
    expect(store.billing.chargeMinute(minute(2))).toEqual({
      ok: true,
      balance: 5,
      duplicate: true,
    });
    expect(() => store.billing.chargeMinute(minute(4))).toThrow(/out of order/);
    expect(store.billing.chargeMinute(minute(3))).toEqual({ ok: false, reason: 'insufficient' });
    expect(store.billing.charges(T, 'call-1').map((c) => [c.minute, c.balanceAfter])).toEqual([
      [1, 15],
      [2, 5],
    ]);
    expect(store.billing.meter('call-1')?.minutesCharged).toBe(2);
    expect(store.billing.closeMeter('call-1', 3000, 'hangup')).toMatchObject({
      state: 'ended',
      endReason: 'hangup',
    });
    expect(store.billing.chargeMinute(minute(3))).toEqual({ ok: false, reason: 'no_meter' });
  });

  it('opens no meter when the first minute cannot be paid', () => {
    const meter = {
      callId: 'call-2',
      tenant: T,
      accountId: 'acc-000003',
      ratePerMinute: 10,
      connectedAt: 1,
    };
    expect(store.billing.openMeter(meter)).toEqual({ ok: false, reason: 'insufficient' });
    expect(store.billing.meter('call-2')).toBeUndefined();
  });
});

describe('the audit log', () => {
  it('lists a tenant’s entries newest first, by entity', () => {
    const entry = {
      tenant: T,
      at: 1,
      actor: 'api:k',
      entity: 'account' as const,
      entityId: 'acc-1',
    };
    store.audit.append({ ...entry, action: 'account.create', before: null, after: { name: 'A' } });
    store.audit.append({
      ...entry,
      action: 'account.update',
      before: { name: 'A' },
      after: { name: 'B' },
    });
    store.audit.append({
      ...entry,
      tenant: 'other-facility',
      action: 'account.create',
      before: null,
      after: {},
    });
    const list = store.audit.list(T, { entity: 'account', entityId: 'acc-1', limit: 10 });
    expect(list.map((e) => [e.action, e.before, e.after])).toEqual([
      ['account.update', { name: 'A' }, { name: 'B' }],
      ['account.create', null, { name: 'A' }],
    ]);
  });
});
