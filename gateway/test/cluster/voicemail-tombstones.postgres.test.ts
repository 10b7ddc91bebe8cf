/**
 * A gateway that comes back after being retired removes the WAVs of its
 * voicemails deleted meanwhile (tombstones, docs/voicemail.md): gateways A and
 * B on one PostgreSQL and one redis-server, each with its own recordings
 * directory. A voicemail recorded on A (its row as A writes it, its WAV in A's
 * directory); A stops (its lease given up) and its disk goes with it (the
 * directory moved out of reach). A delete asked on B: 202; B's sweep deletes
 * the row, A being retired, and leaves a tombstone for A. A starts again with
 * its disk back: its first sweep removes the WAV, then the tombstone, and
 * counts it; a WAV in A's directory that no row nor tombstone names stays.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  startPostgres,
  startRedis,
  stopAll,
  until,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';

let postgres: Postgres;
let redis: RedisServer;
let client: pg.Client;
let url: string;
let keys: Awaited<ReturnType<typeof testKeys>>;
let a: TestGateway | undefined;
let b: TestGateway | undefined;
const root = mkdtempSync(join(tmpdir(), 'parley-vm-tombstones-'));
const dirA = join(root, 'a');
const dirB = join(root, 'b');

const start = (instanceId: string, recordingsDir: string) =>
  startTestGateway({
    keys,
    config: {
      storage: { path: ':memory:', kind: 'postgres', postgres: { url }, recordingsDir },
      // A short lease: B takes A for retired once its lease was missing on two sweeps a lease apart.
      shared: {
        instanceId,
        heartbeatSeconds: 1,
        leaseSeconds: 3,
        redis: { url: redis.url, keyPrefix: 'vm-tombstones-test:' },
      },
      voicemail: { sweepIntervalSeconds: 1 },
    },
  });

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  url = await postgres.createDatabase('parley_vm_tombstones');
  keys = await testKeys();
  mkdirSync(dirA);
  mkdirSync(dirB);
  a = await start('gw-a', dirA);
  b = await start('gw-b', dirB);
  client = new pg.Client({ connectionString: url });
  await client.connect();
}, 60_000);
afterAll(async () => {
  await client?.end();
  await a?.close();
  await b?.close();
  await redis?.stop();
  await postgres?.stop();
  await stopAll();
});

const rowCount = async (sql: string, id: string) => (await client.query(sql, [id])).rowCount;

it("removes a returning gateway's WAV whose row another gateway deleted, and no other", async () => {
  const wav = join(dirA, 'voicemail-vm-away.wav');
  writeFileSync(wav, Buffer.from('RIFFvm-awayWAVE'));
  const orphan = join(dirA, 'voicemail-orphan.wav');
  writeFileSync(orphan, Buffer.from('RIFForphanWAVE'));
  await client.query(
    `INSERT INTO vm_voicemails (id, call_id, tenant, queue, status, session_number, session_id,
       origin, public_claims, private_claims, recording_path, created_at, ended_at, gateway)
     VALUES ('vm-away', 'call-vm-away', $1, 'sales', 'left', '+15550101', 's', '', '{}', '{}',
       $2, $3, $3, 'gw-a')`,
    [TENANT, wav, Date.now()],
  );

  // A stops, and its disk is out of B's reach.
  await a?.close();
  a = undefined;
  const away = join(root, 'a-away');
  renameSync(dirA, away);
  expect((await b?.apiRequest('DELETE', '/v1/voicemails/vm-away'))?.status).toBe(202);
  await until(
    async () => (await rowCount('SELECT 1 FROM vm_voicemails WHERE id = $1', 'vm-away')) === 0,
    "B's sweep deleting the retired gateway's row",
    10_000,
  );
  const tombstones = await client.query('SELECT gateway, recording_path FROM vm_tombstones');
  expect(tombstones.rows).toEqual([{ gateway: 'gw-a', recording_path: wav }]);

  // A comes back with its disk.
  renameSync(away, dirA);
  expect(existsSync(wav)).toBe(true);
  a = await start('gw-a', dirA);
  await until(
    async () => (await rowCount('SELECT 1 FROM vm_tombstones WHERE id = $1', 'vm-away')) === 0,
    "A's retention clearing its tombstone",
    10_000,
  );
  expect(existsSync(wav)).toBe(false);
  expect(existsSync(orphan)).toBe(true);
  expect(await a.gateway.metrics.voicemailTombstonedFilesRemoved.get()).toMatchObject({
    values: [{ value: 1 }],
  });
});
