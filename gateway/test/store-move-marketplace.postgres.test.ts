/**
 * `parley-gateway move` of the marketplace, its ledger and the core records
 * (issue 16: everything that must last is in PostgreSQL): a gateway on
 * SQLite shows a listing (an impression) and a sipp visitor's call to it is
 * answered by a baresip agent and charged once; started on PostgreSQL with
 * that file the gateway refuses, naming the command; the move, SIGKILLed
 * while the marketplace waits on a locked table (after the ledger's
 * COMMIT), then run again, completes; run again with the file's marks lost,
 * nothing is doubled; a gateway on PostgreSQL then shows the same balance,
 * the call with its charge, the impression and the listing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  startPostgres,
  stopAll,
  type Postgres,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childGatewayConfig } from './answered-visitor-call.js';
import { gatewayCommand, moveKilledAt } from './store-move-run.js';
import { TENANT, registeredAgent, startTestGateway, testKeys } from './harness.js';
import { placeOne, plumberListing, type PlumberListing } from './marketplace-setup.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-move-mp-'));
const sqlitePath = join(dir, 'parley.sqlite');
const INSTANCE = 'gw-move-mp';
const DEVICE = 'device-move-0001';
let postgres: Postgres;
let url = '';
let db: pg.Client;

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase('parley_move_mp');
  db = new pg.Client({ connectionString: url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await postgres?.stop();
  await stopAll();
});

const marketplace = { reserveCents: 300, publisherSharePercent: 40 };
const onPostgres = () => ({
  storage: { kind: 'postgres' as const, path: sqlitePath, postgres: { url } },
  shared: { instanceId: INSTANCE },
  marketplace,
});

async function configFile(): Promise<string> {
  const keys = await testKeys();
  const path = join(dir, 'parley.json');
  writeFileSync(
    path,
    childGatewayConfig({
      gatewayId: 'gw-move-mp',
      gatewayKey: keys.gateway.privateJwk,
      tenantKey: keys.tenant.publicJwk,
      sipPort: 5060, // never bound: the command opens no listener
      media: { base: 30000, size: 10 },
      extra: onPostgres(),
    }),
  );
  return path;
}

const move = (config: string) => gatewayCommand('move', config);

async function count(sql: string): Promise<number> {
  return Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
}

interface AdvertiserView {
  balanceCents: number;
}

describe.skipIf(!sippAvailable())(
  'parley-gateway move: the marketplace and the core records',
  () => {
    let listing: PlumberListing;
    let callId = '';
    let impressionId = '';
    let balance = 0;
    let config = '';

    it('a gateway on SQLite places a listing and charges a call to it', async () => {
      const gw = await startTestGateway({
        agents: [{ id: 'agent1' }],
        config: { storage: { path: sqlitePath }, marketplace },
      });
      const agent = await registeredAgent(gw);
      try {
        listing = await plumberListing(gw);
        const placement = await placeOne<{ impressionId: string; reference: string }>(
          gw,
          listing.placementKey,
          DEVICE,
        );
        const slot = placement.slots[0]!;
        impressionId = slot.impressionId;
        const token = await gw.token({
          subject: 'web-sess-MV',
          scope: `listing:${listing.listingId}`,
          privateClaims: { name: 'Ada', deviceId: DEVICE },
        });
        const result = await runSipp({
          scenario: await bundledScenario('uac-bearer-impression'),
          remote: gw.udp,
          service: `listing.${listing.listingId}`,
          calls: 1,
          callDurationMs: 3000,
          injection: { rows: [[token, slot.reference]] },
          timeoutMs: 60_000,
        });
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        await gw.callsEnded();
        const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
        callId = record.id;
        const view = await gw.api<{ marketplace: Record<string, unknown> | null }>(
          `/v1/calls/${callId}`,
        );
        expect(view.body.marketplace).toMatchObject({ qualified: true, chargedCents: 300 });
        const advertiser = await gw.api<AdvertiserView>(`/v1/advertisers/${listing.advertiserId}`);
        balance = advertiser.body.balanceCents;
        expect(balance).toBe(100_000 - 300);
      } finally {
        await agent.stop();
        await gw.close();
      }
    });

    it('started on PostgreSQL with that file, the gateway refuses and names the command', async () => {
      await expect(
        startTestGateway({ agents: [{ id: 'agent1' }], config: onPostgres() }),
      ).rejects.toMatchObject({
        code: 'invalid_config',
        detail: expect.stringMatching(
          /core rows .*\d+ calls.*gateway\/dist\/main\.js move/,
        ) as unknown,
      });
    });

    it('killed while the marketplace waits, after the ledger committed, then run again, it completes', async () => {
      config = await configFile();
      await gatewayCommand('migrate', config);
      const out = await moveKilledAt(url, config, 'mp_impressions', 'mp_placements: ');
      expect(out).toMatch(/ledger: ledger_transactions: \d+ copied, 0 already there/);
      expect(out).toMatch(/ledger: moved \(\d+ rows\), recorded in PostgreSQL/);
      expect(await count('SELECT count(*) AS n FROM mp_listings')).toBe(0);
      const again = await move(config);
      expect(again.stdout).toMatch(/ledger: already moved .*recorded in PostgreSQL.*skipped/);
      expect(again.stdout).toMatch(/marketplace: mp_impressions: 1 copied, 0 already there/);
      expect(again.stdout).toMatch(/marketplace: mp_calls: 1 copied, 0 already there/);
      expect(again.stdout).toMatch(/core: calls: 1 copied, 0 already there/);
      expect(again.stdout).toMatch(/marketplace moved.*core moved/);
    });

    it('run again with both records of the move lost, it doubles nothing: balances equal', async () => {
      const sums = () =>
        db.query<{ id: string; balance: number }>(
          'SELECT id, balance FROM ledger_accounts ORDER BY id',
        );
      const before = (await sums()).rows;
      const transactions = await count('SELECT count(*) AS n FROM ledger_transactions');
      const file = new Database(sqlitePath);
      file.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
      file.close();
      await db.query('DELETE FROM store_moves');
      const unmarked = await move(config);
      expect(unmarked.stdout).toMatch(/ledger_transactions: 0 copied, \d+ already there/);
      expect(unmarked.stdout).toMatch(/ledger_postings: 0 copied, \d+ already there/);
      expect(unmarked.stdout).toMatch(/mp_impressions: 0 copied, 1 already there/);
      expect(unmarked.stdout).toMatch(/mp_calls: 0 copied, 1 already there/);
      expect(unmarked.stdout).toMatch(/core: calls: 0 copied, 1 already there/);
      expect((await sums()).rows).toEqual(before);
      expect(await count('SELECT count(*) AS n FROM ledger_transactions')).toBe(transactions);
      // Every account's balance is the sum of its postings.
      expect(
        await count(`SELECT count(*) AS n FROM ledger_accounts a WHERE a.balance <>
        (SELECT COALESCE(SUM(amount), 0) FROM ledger_postings p WHERE p.account_id = a.id)`),
      ).toBe(0);
      expect(await count('SELECT spent AS n FROM mp_listing_spend')).toBe(300);
    });

    it('a gateway on PostgreSQL shows the balance, the charged call, the impression and the listing', async () => {
      const gw = await startTestGateway({ agents: [{ id: 'agent1' }], config: onPostgres() });
      try {
        const advertiser = await gw.api<AdvertiserView>(`/v1/advertisers/${listing.advertiserId}`);
        expect(advertiser.body.balanceCents).toBe(balance);
        const view = await gw.api<{ marketplace: Record<string, unknown> | null }>(
          `/v1/calls/${callId}`,
        );
        expect(view.body.marketplace).toMatchObject({
          listingId: listing.listingId,
          impressionId,
          qualified: true,
          chargedCents: 300,
        });
        const impression = await gw.api(`/v1/impressions/${impressionId}`);
        expect(impression.status).toBe(200);
        const listed = await gw.api(`/v1/listings/${listing.listingId}`);
        expect(listed.status).toBe(200);
      } finally {
        await gw.close();
      }
    });
  },
);
