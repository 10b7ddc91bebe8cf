/**
 * `parley-gateway move` (issue 16: everything that must last is in PostgreSQL
 * with `storage.kind: postgres`): a gateway on SQLite makes a device, a
 * resident with a PIN, an account with a credit and a callback through its
 * API; started on PostgreSQL with that file it refuses, naming the command;
 * the real entry point, as a child process, moves the gated rows and the
 * callbacks (killed once between the modules, then run again); the gateway
 * then starts on PostgreSQL, the resident signs in with the PIN, the
 * balance is the credit once, the callback is listed scheduled, and a
 * device locked by wrong PINs on SQLite is still locked. Run again, or with
 * the file's marks lost, nothing is doubled; a different row under a moved
 * key refuses the module, nothing of it moved, naming table and key in the
 * output and its JSON.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startPostgres, stopAll, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinHasher } from '../src/gated/index.js';
import { childGatewayConfig } from './answered-visitor-call.js';
import { gatewayCommand, moveKilledAt } from './store-move-run.js';
import { TENANT, startTestGateway, testKeys, type TestGateway } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-move-'));
const sqlitePath = join(dir, 'parley.sqlite');
const INSTANCE = 'gw-move-a';
let postgres: Postgres;
let url = '';
let db: pg.Client;

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase('parley_move');
  db = new pg.Client({ connectionString: url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await postgres?.stop();
  await stopAll();
});

/** A config file for the command: the same file and database as the gateways below. */
async function configFile(name: string, databaseUrl: string): Promise<string> {
  const keys = await testKeys();
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    childGatewayConfig({
      gatewayId: 'gw-move',
      gatewayKey: keys.gateway.privateJwk,
      tenantKey: keys.tenant.publicJwk,
      sipPort: 5060, // never bound: the command opens no listener
      media: { base: 30000, size: 10 },
      extra: {
        storage: { kind: 'postgres', path: sqlitePath, postgres: { url: databaseUrl } },
        shared: { instanceId: INSTANCE },
      },
    }),
  );
  return path;
}

const move = (config: string) => gatewayCommand('move', config);

const gatedTenant = {
  tenantExtra: { gated: { pin: { maxFailures: 3, delayMs: 0 } } },
  pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
};
const callbacks = { queues: { sales: { callerNumber: '+14155550188' } } };
const onPostgres = () => ({
  storage: { kind: 'postgres' as const, path: sqlitePath, postgres: { url } },
  shared: { instanceId: INSTANCE },
});

async function count(sql: string): Promise<number> {
  return Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
}

/** A resident's sign-in with `pin` on the device of `secret`: the HTTP status. */
async function signInStatus(
  http: string,
  device: string,
  secret: string,
  pin: string,
): Promise<number> {
  const session = await fetch(`${http}/resident/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: TENANT, device, secret }),
  });
  expect(session.status).toBe(200);
  const token = ((await session.json()) as { token: string }).token;
  const res = await fetch(`${http}/resident/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ pin }),
  });
  return res.status;
}

describe('parley-gateway move', () => {
  let secret = '';
  let lockedSecret = '';
  let accountId = '';
  let callbackId = '';
  let config = '';

  it('a gateway on SQLite keeps a resident, a device, an account with money and a callback', async () => {
    const gw = await startTestGateway({
      ...gatedTenant,
      config: { storage: { path: sqlitePath }, callbacks },
    });
    try {
      const base = `/v1/gated/${TENANT}`;
      const device = await gw.apiRequest<{ credential: { secret: string } }>(
        'PUT',
        `${base}/devices/tab-7`,
        { kind: 'app', name: 'Unit B tablet 7' },
      );
      expect(device.status).toBe(201);
      secret = device.body.credential.secret;
      const second = await gw.apiRequest<{ credential: { secret: string } }>(
        'PUT',
        `${base}/devices/tab-8`,
        { kind: 'app', name: 'Unit B tablet 8' },
      );
      lockedSecret = second.body.credential.secret;
      const resident = await gw.apiRequest('PUT', `${base}/residents/r-1`, {
        name: 'Rita Resident',
        number: '1001',
        pin: '2468',
        devices: ['tab-7', 'tab-8'],
      });
      expect(resident.status).toBe(201);
      // A stranger at tablet 8 guesses: three wrong PINs lock it, the right one is refused too.
      const http = gw.gateway.httpUrl;
      for (const pin of ['1111', '2222', '3333'])
        expect(await signInStatus(http, 'tab-8', lockedSecret, pin)).toBe(403);
      expect(await signInStatus(http, 'tab-8', lockedSecret, '2468')).toBe(429);
      const account = await gw.apiRequest<{ id: string }>('POST', `${base}/accounts`, {
        name: 'Grace Hopper',
        phones: [{ number: '+14155550123', verified: true }],
        ratePerMinute: 25,
      });
      accountId = account.body.id;
      const credit = await gw.apiRequest('POST', `${base}/accounts/${accountId}/credits`, {
        amount: 1000,
        key: 'receipt-4711',
      });
      expect(credit).toMatchObject({ status: 201, body: { balance: 1000 } });
      const token = await gw.token({
        scope: 'callback:sales',
        privateClaims: {
          callback: {
            phone: '+14155550124',
            when: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      });
      const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, destination: 'sales' }),
      });
      expect(res.status).toBe(201);
      callbackId = ((await res.json()) as { id: string }).id;
    } finally {
      await gw.close();
    }
  });

  it('started on PostgreSQL with that file, the gateway refuses and names the command', async () => {
    await expect(
      startTestGateway({ ...gatedTenant, config: { ...onPostgres(), callbacks } }),
    ).rejects.toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(
        /gated rows .*\(1 accounts, 1 residents, 2 devices, \d+ audit\).*gateway\/dist\/main\.js move/,
      ) as unknown,
    });
  });

  it('killed between the modules, then run again, it completes', async () => {
    config = await configFile('parley', url);
    await gatewayCommand('migrate', config);
    // The callbacks' table held by another transaction: the move waits there, after gated's COMMIT.
    const out = await moveKilledAt(url, config, 'cb_callbacks', 'callbacks: moving');
    expect(out).toMatch(/held for writing until the move ends/);
    expect(out).toMatch(/gated: gated_credits: 1 copied, 0 already there/);
    expect(out).toMatch(/gated: gated_pin_attempts: 1 copied, 0 already there/);
    expect(out).toMatch(/gated: moved \(\d+ rows\), recorded in PostgreSQL/);
    expect(await count('SELECT count(*) AS n FROM gated_residents')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM cb_callbacks')).toBe(0);
    // Still refused: the file's marks went with its transaction, the callbacks are not moved.
    await expect(
      startTestGateway({ ...gatedTenant, config: { ...onPostgres(), callbacks } }),
    ).rejects.toMatchObject({ code: 'invalid_config' });
    // Meanwhile the cluster changes a moved row (a credit through another gateway's API).
    await db.query('UPDATE gated_accounts SET balance = balance + 1');
    const again = await move(config);
    await db.query('UPDATE gated_accounts SET balance = balance - 1');
    expect(again.stdout).toMatch(
      /gated: already moved \(.*, recorded in PostgreSQL\), marked in the SQLite file, skipped/,
    );
    expect(again.stdout).toMatch(/callbacks: cb_callbacks: 1 copied, 0 already there/);
    expect(again.stdout).toMatch(/done \(gated already moved, .*callbacks moved, /);
  });

  it('run again, or with the marks lost, it doubles nothing', async () => {
    const third = await move(config);
    expect(third.stdout).toMatch(/done \(gated already moved, .*callbacks already moved, /);
    // The file's marks lost: PostgreSQL's record marks it again.
    const file = new Database(sqlitePath);
    file.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
    const remarked = await move(config);
    expect(remarked.stdout).toMatch(/callbacks: already moved \(.*, recorded in PostgreSQL\)/);
    // Both records lost: the next run finds the rows equal.
    file.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
    file.close();
    await db.query('DELETE FROM store_moves');
    const unmarked = await move(config);
    expect(unmarked.stdout).toMatch(/gated_accounts: 0 copied, 1 already there/);
    expect(unmarked.stdout).toMatch(/gated_credits: 0 copied, 1 already there/);
    expect(unmarked.stdout).toMatch(/gated_pin_attempts: 0 copied, 1 already there/);
    expect(unmarked.stdout).toMatch(/gated_audit: 0 copied, \d+ already there/);
    expect(unmarked.stdout).toMatch(/cb_callbacks: 0 copied, 1 already there/);
    expect(await count('SELECT count(*) AS n FROM gated_credits')).toBe(1);
    expect(await count('SELECT sum(balance) AS n FROM gated_accounts')).toBe(1000);
    expect(await count('SELECT count(*) AS n FROM cb_callbacks')).toBe(1);
    const audit = await count('SELECT count(*) AS n FROM gated_audit');
    const sqlite = new Database(sqlitePath, { readonly: true });
    const fileAudit = sqlite
      .prepare<[], { n: number }>('SELECT count(*) AS n FROM gated_audit')
      .get();
    sqlite.close();
    expect(audit).toBe(fileAudit?.n);
    const owner = await db.query<{ owner: string }>('SELECT owner FROM cb_callbacks');
    expect(owner.rows).toEqual([{ owner: INSTANCE }]);
  });

  it('the gateway starts on PostgreSQL: the PIN signs the resident in, the balance and the callback are there', async () => {
    let gw: TestGateway | undefined;
    try {
      gw = await startTestGateway({ ...gatedTenant, config: { ...onPostgres(), callbacks } });
      const http = gw.gateway.httpUrl;
      const session = await fetch(`${http}/resident/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: TENANT, device: 'tab-7', secret }),
      });
      expect(session.status).toBe(200);
      const token = ((await session.json()) as { token: string }).token;
      const signIn = await fetch(`${http}/resident/api/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ pin: '2468' }),
      });
      expect(signIn.status).toBe(200);
      expect(await signIn.json()).toMatchObject({ resident: { id: 'r-1' } });
      // Moved locked: forcing a move gave the stranger no fresh tries.
      expect(await signInStatus(http, 'tab-8', lockedSecret, '2468')).toBe(429);
      const account = await gw.api(`/v1/gated/${TENANT}/accounts/${accountId}`);
      expect(account.body).toMatchObject({ balance: 1000 });
      const listed = await gw.api<{ callbacks: { id: string; state: string; phone: string }[] }>(
        '/v1/callbacks',
      );
      expect(listed.body.callbacks).toEqual([
        expect.objectContaining({ id: callbackId, state: 'scheduled', phone: '+14155550124' }),
      ]);
    } finally {
      await gw?.close();
    }
  });

  it('put back on SQLite for a while, a callback made there refuses the start until moved too', async () => {
    const back = await startTestGateway({ config: { storage: { path: sqlitePath }, callbacks } });
    let later: string;
    try {
      const token = await back.token({
        scope: 'callback:sales',
        privateClaims: {
          callback: {
            phone: '+14155550125',
            when: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      });
      const res = await fetch(`${back.gateway.httpUrl}/v1/callbacks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, destination: 'sales' }),
      });
      expect(res.status).toBe(201);
      later = ((await res.json()) as { id: string }).id;
    } finally {
      await back.close();
    }
    await expect(
      startTestGateway({ ...gatedTenant, config: { ...onPostgres(), callbacks } }),
    ).rejects.toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(
        /callbacks rows written after they were moved .*cb_callbacks: 2 rows, 1 moved.*main\.js move/,
      ) as unknown,
    });
    const again = await move(config);
    expect(again.stdout).toMatch(/callbacks: rows written since its move .*: moving again/);
    expect(again.stdout).toMatch(/callbacks: cb_callbacks: 1 copied, 1 already there/);
    const gw = await startTestGateway({ ...gatedTenant, config: { ...onPostgres(), callbacks } });
    try {
      const listed = await gw.api<{ callbacks: { id: string }[] }>('/v1/callbacks');
      expect(listed.body.callbacks.map((c) => c.id).sort()).toEqual([callbackId, later].sort());
    } finally {
      await gw.close();
    }
  });

  it('refuses a module whose key PostgreSQL holds with a different row, and moves none of it', async () => {
    const other = await postgres.createDatabase('parley_move_conflict');
    const conflictConfig = await configFile('conflict', other);
    await gatewayCommand('migrate', conflictConfig);
    const client = new pg.Client({ connectionString: other });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO gated_accounts (tenant, id, number, name, rate_per_minute, balance, status,
           created_at, updated_at) VALUES ($1, $2, '5550000', 'Someone Else', 10, 5, 'active', 1, 1)`,
        [TENANT, accountId],
      );
      const file = new Database(sqlitePath);
      file.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
      file.close();
      const failed = await move(conflictConfig).catch(
        (error: { code: number; stderr: string; stdout: string }) => error,
      );
      expect('code' in failed ? failed.code : 0).toBe(65);
      const stderr = 'stderr' in failed ? failed.stderr : '';
      expect(stderr).toContain(
        `refused: gated: PostgreSQL holds 1 row different from the SQLite file's under the same key`,
      );
      expect(stderr).toContain(
        `\n  gated_accounts (tenant, id): 1 differing: tenant=${TENANT} id=${accountId}\n`,
      );
      const json = stderr.split('\n').find((l) => l.startsWith('parley-gateway move: {'));
      expect(JSON.parse(json?.slice('parley-gateway move: '.length) ?? '{}')).toMatchObject({
        error: {
          code: 'store_move_conflict',
          module: 'gated',
          tables: [
            {
              table: 'gated_accounts',
              key: ['tenant', 'id'],
              rows: 1,
              first: [{ tenant: TENANT, id: accountId }],
            },
          ],
        },
      });
      const residents = await client.query('SELECT 1 FROM gated_residents');
      expect(residents.rowCount).toBe(0);
      const balance = await client.query<{ balance: number }>('SELECT balance FROM gated_accounts');
      expect(balance.rows).toEqual([{ balance: '5' }]);
    } finally {
      await client.end();
    }
  });
});
