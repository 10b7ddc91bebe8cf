/**
 * `parley-gateway migrate` (issue 16: "migrations run at start, or by a
 * command"): the real entry point, as a child process, against the testkit's
 * PostgreSQL. It brings every module's tables up to date, says so, exits 0,
 * and a second run applies nothing; it never closes a running gateway's calls.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startPostgres, stopAll, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childGatewayConfig } from './answered-visitor-call.js';
import { testKeys } from './harness.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'parley-migrate-'));
const configPath = join(dir, 'parley.json');
const sqlitePath = join(dir, 'parley.sqlite');
let postgres: Postgres;
let url = '';

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase('parley_migrate');
  const keys = await testKeys();
  writeFileSync(
    configPath,
    childGatewayConfig({
      gatewayId: 'gw-migrate',
      gatewayKey: keys.gateway.privateJwk,
      tenantKey: keys.tenant.publicJwk,
      // Never bound: the command opens no listener.
      sipPort: 5060,
      media: { base: 30000, size: 10 },
      extra: {
        storage: { kind: 'postgres', path: sqlitePath, postgres: { url } },
        shared: { instanceId: 'gw-migrate-a' },
      },
    }),
  );
});
afterAll(async () => {
  await postgres?.stop();
  await stopAll();
});

const migrate = () =>
  run(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts', 'migrate', '-c', configPath], {
    env: { ...process.env, PARLEY_LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });

describe('parley-gateway migrate', () => {
  it("brings PostgreSQL and SQLite up to date, leaves a running gateway's calls alone, and a second run applies nothing", async () => {
    const first = await migrate();
    expect(first.stdout).toMatch(/schemas up to date \(PostgreSQL and SQLite at /);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const versions = await db.query<{ module: string; version: number }>(
        'SELECT module, version FROM schema_migrations ORDER BY module',
      );
      const modules = versions.rows.map((r) => r.module);
      expect(modules).toEqual(
        expect.arrayContaining(['core', 'ledger', 'marketplace', 'voicemail', 'flows', 'gated']),
      );
      for (const row of versions.rows) expect(row.version).toBeGreaterThan(0);
      // A call a running gateway owns, in progress: the command must not close it.
      await db.query(
        `INSERT INTO calls (id, owner, tenant, session_id, session_number, origin, visitor_call_id,
           visitor_transport, visitor_source, state, created_at)
         VALUES ('live-1', 'gw-migrate', 'acme', 's1', '+15550001', 'https://shop.test', 'v1',
           'udp', '127.0.0.1', 'answered', $1)`,
        [Date.now()],
      );
      const second = await migrate();
      expect(second.stdout).toMatch(/schemas up to date/);
      const again = await db.query<{ module: string; version: number }>(
        'SELECT module, version FROM schema_migrations ORDER BY module',
      );
      expect(again.rows).toEqual(versions.rows);
      const live = await db.query<{ state: string }>(`SELECT state FROM calls WHERE id = 'live-1'`);
      expect(live.rows[0]?.state).toBe('answered');
    } finally {
      await db.end();
    }
    // The modules' SQLite tables are there too.
    const sqlite = new Database(sqlitePath, { readonly: true });
    try {
      const tables = sqlite
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((t) => t.name);
      expect(tables.length).toBeGreaterThan(5);
    } finally {
      sqlite.close();
    }
  });

  it('refuses an unknown command with a clear line', async () => {
    const failed = await run(
      process.execPath,
      ['--import', 'tsx', 'gateway/src/main.ts', 'migrat', '-c', configPath],
      { timeout: 60_000 },
    ).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failed ? failed.code : 0).toBe(1);
    expect('stderr' in failed ? failed.stderr : '').toMatch(/unknown command "migrat"/);
  });
});
