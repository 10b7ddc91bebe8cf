/**
 * The gated store on SQLite: 100,000 accounts, every call-path lookup answered
 * from an index (the query plans say SEARCH, never a SCAN of a table), tenants
 * that never see each other's rows, the audit log, and the contract every
 * gated store passes (`store-contract.ts`: accounts, money, decisions).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../storage/index.js';
import type { StoredAccount } from '../types.js';
import { GATED_SCHEMA } from './schema.js';
import { createSqliteGatedStore } from './sqlite-gated-store.js';
import { gatedStoreContract } from './store-contract.js';
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

beforeAll(async () => {
  db = openDatabase(':memory:', [GATED_SCHEMA]);
  // Every statement the store prepares is collected, to read its query plan below.
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  store = createSqliteGatedStore(db);
  // SQLite's store writes before its promise returns: one transaction for all of them.
  db.transaction(() => {
    for (let i = 0; i < ACCOUNTS; i += 1) void store.accounts.insert(account(i));
  })();
  await store.accounts.insert(account(5, 'other-facility'));
  // 100,000 inserts take seconds, more on a loaded machine: the hook may take its time.
}, 180_000);

afterAll(() => db.close());

describe('the gated store with 100,000 accounts', () => {
  it('finds an account by number, verified phone, web login and id', async () => {
    expect((await store.accounts.byNumber(T, '1000054321'))?.id).toBe('acc-054321');
    expect((await store.accounts.byVerifiedPhone(T, '+14150054322'))?.id).toBe('acc-054322');
    // An unverified number names nobody.
    expect(await store.accounts.byVerifiedPhone(T, '+14150054321')).toBeUndefined();
    expect((await store.accounts.byWebLogin(T, 'user54321@example.org'))?.id).toBe('acc-054321');
    expect((await store.accounts.get(T, 'acc-099999'))?.phones).toEqual([
      { number: '+14150099999', verifiedAt: null },
    ]);
  });

  it('keeps tenants apart: the same id, number and phone in another tenant are another account', async () => {
    expect((await store.accounts.get('other-facility', 'acc-000005'))?.tenant).toBe(
      'other-facility',
    );
    expect(await store.accounts.byNumber('other-facility', '1000000006')).toBeUndefined();
    expect(await store.accounts.byVerifiedPhone('nobody', '+14150000004')).toBeUndefined();
    expect(await store.accounts.phoneHolder(T, '+14150000005')).toBe('acc-000005');
    expect(await store.accounts.phoneHolder(T, '+14150000005', 'acc-000005')).toBeUndefined();
  });

  it('pages through a tenant in id order', async () => {
    const first = await store.accounts.list(T, { limit: 3 });
    expect(first.items.map((a) => a.id)).toEqual(['acc-000000', 'acc-000001', 'acc-000002']);
    const second = await store.accounts.list(T, { limit: 2, after: first.next ?? undefined });
    expect(second.items.map((a) => a.id)).toEqual(['acc-000003', 'acc-000004']);
    expect(await store.accounts.list(T, { limit: 5, after: 'acc-099998' })).toMatchObject({
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

describe('the audit log', () => {
  it('lists a tenant’s entries newest first, by entity', async () => {
    const entry = {
      tenant: T,
      at: 1,
      actor: 'api:k',
      entity: 'account' as const,
      entityId: 'acc-1',
    };
    await store.audit.append({
      ...entry,
      action: 'account.create',
      before: null,
      after: { name: 'A' },
    });
    await store.audit.append({
      ...entry,
      action: 'account.update',
      before: { name: 'A' },
      after: { name: 'B' },
    });
    await store.audit.append({
      ...entry,
      tenant: 'other-facility',
      action: 'account.create',
      before: null,
      after: {},
    });
    const list = await store.audit.list(T, { entity: 'account', entityId: 'acc-1', limit: 10 });
    expect(list.map((e) => [e.action, e.before, e.after])).toEqual([
      ['account.update', { name: 'A' }, { name: 'B' }],
      ['account.create', null, { name: 'A' }],
    ]);
  });
});

gatedStoreContract('SQLite', () => {
  const fresh = openDatabase(':memory:', [GATED_SCHEMA]);
  onTestFinished(() => {
    fresh.close();
  });
  return Promise.resolve({ store: createSqliteGatedStore(fresh) });
});
