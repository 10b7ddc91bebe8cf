/**
 * The voicemail index shared by two gateways (issue 16 item 1 for issue 11's
 * records): A and B on one PostgreSQL (`storage.kind: postgres`, migrated at
 * start) and one redis-server (the desks' fan-out), each with its own
 * recordings directory. Voicemails recorded on A (rows as A writes them,
 * WAVs on A's disk):
 * - B lists and reads them; B answers `421 elsewhere` for the WAV (naming
 *   A), A sends it;
 * - marked heard through B: every desk of the queue's agent gets
 *   `voicemail-heard` (two desks on A, one on B), another tenant's does not;
 * - deleted through B: 202, gone from every list at once, every desk gets
 *   `voicemail-deleted`, and A's sweeper deletes the WAV then the row;
 * - deleted through A: 204, WAV and row gone; one still being recorded: 409;
 *   taken (or its live text asked) through B while A records it: 421.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import {
  startPostgres,
  startRedis,
  stopAll,
  until,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskSocket, type DeskSocket } from '../desk-socket.js';
import { API_KEY, TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';

let postgres: Postgres;
let redis: RedisServer;
let client: pg.Client;
let a: TestGateway;
let b: TestGateway;
const dirA = mkdtempSync(join(tmpdir(), 'parley-vm-a-'));
const dirB = mkdtempSync(join(tmpdir(), 'parley-vm-b-'));

beforeAll(async () => {
  postgres = await startPostgres();
  redis = await startRedis();
  const url = await postgres.createDatabase('parley_vm_cluster');
  const keys = await testKeys();
  const start = (instanceId: string, recordingsDir: string) =>
    startTestGateway({
      keys,
      agents: [{ id: 'agent1' }, { id: 'rival', tenant: 'globex', queues: ['globex'] }],
      otherTenants: ['globex'],
      config: {
        storage: { path: ':memory:', kind: 'postgres', postgres: { url }, recordingsDir },
        shared: { instanceId, redis: { url: redis.url, keyPrefix: 'vm-inbox-test:' } },
        voicemail: { sweepIntervalSeconds: 1 },
      },
    });
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

/** A voicemail recorded on A: its row as A's store writes it, its WAV in A's directory. */
async function recordedOnA(id: string, status: 'left' | 'recording' = 'left'): Promise<string> {
  const path = join(dirA, `voicemail-${id}.wav`);
  writeFileSync(path, Buffer.from(`RIFF${id}WAVE`));
  await client.query(
    `INSERT INTO vm_voicemails (id, call_id, tenant, queue, status, session_number, session_id,
       origin, public_claims, private_claims, recording_path, created_at, ended_at, gateway)
     VALUES ($1, $2, $3, 'sales', $4, '+15550101', 's', '', '{}', '{}', $5, $6, $7, 'gw-a')`,
    [id, `call-${id}`, TENANT, status, path, Date.now(), status === 'left' ? Date.now() : null],
  );
  return path;
}

const isFor = (type: string, id: string) => (f: Record<string, unknown>) =>
  f['type'] === type && f['voicemailId'] === id;

describe('voicemails shared by two gateways', () => {
  let desks: DeskSocket[];
  let rival: DeskSocket;
  beforeAll(async () => {
    desks = [
      await deskSocket(a.gateway.httpUrl, 'agent1', 'secret'),
      await deskSocket(a.gateway.httpUrl, 'agent1', 'secret'),
      await deskSocket(b.gateway.httpUrl, 'agent1', 'secret'),
    ];
    rival = await deskSocket(b.gateway.httpUrl, 'rival', 'secret');
  });
  afterAll(() => {
    for (const desk of [...(desks ?? []), rival]) desk?.ws.close();
  });

  it("lists A's voicemail on B; the WAV is A's to send (B: 421 naming A)", async () => {
    await recordedOnA('vm-list');
    const listed = await b.api<{ voicemails: { id: string }[] }>('/v1/voicemails');
    expect(listed.status).toBe(200);
    expect(listed.body.voicemails.map((v) => v.id)).toContain('vm-list');
    const elsewhere = await b.api<{ error: { code: string; detail: string } }>(
      '/v1/voicemails/vm-list/recording',
    );
    expect(elsewhere.status).toBe(421);
    expect(elsewhere.body.error).toMatchObject({ code: 'elsewhere' });
    expect(elsewhere.body.error.detail).toContain('gw-a');
    const wav = await fetch(`${a.gateway.httpUrl}/v1/voicemails/vm-list/recording`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(wav.status).toBe(200);
    expect(Buffer.from(await wav.arrayBuffer()).toString()).toBe('RIFFvm-listWAVE');
  });

  it('tells every desk of the box, on both gateways, a voicemail marked heard through B', async () => {
    await recordedOnA('vm-heard');
    const marked = await b.apiRequest<{ heardBy: string }>(
      'POST',
      '/v1/voicemails/vm-heard/heard',
      { agentId: 'agent1' },
    );
    expect(marked.status).toBe(200);
    for (const desk of desks) {
      const frame = await desk.frame(isFor('voicemail-heard', 'vm-heard'));
      expect(frame).toMatchObject({ heardBy: 'agent1', heardAt: expect.any(String) as unknown });
    }
    // A reads the same mark from the shared row.
    const onA = await a.api<{ heardBy: string }>('/v1/voicemails/vm-heard');
    expect(onA.body.heardBy).toBe('agent1');
  });

  it("deletes A's voicemail through B: hidden at once, A's sweeper removes the WAV then the row", async () => {
    const file = await recordedOnA('vm-del-b');
    const res = await b.apiRequest('DELETE', '/v1/voicemails/vm-del-b');
    expect(res.status).toBe(202);
    for (const desk of desks) await desk.frame(isFor('voicemail-deleted', 'vm-del-b'));
    expect((await a.api('/v1/voicemails/vm-del-b')).status).toBe(404);
    expect((await b.apiRequest('DELETE', '/v1/voicemails/vm-del-b')).status).toBe(404);
    await until(() => !existsSync(file), "A's sweeper deleting the WAV", 10_000);
    await until(
      async () =>
        (await client.query('SELECT 1 FROM vm_voicemails WHERE id = $1', ['vm-del-b'])).rowCount ===
        0,
      'the row gone after its file',
      10_000,
    );
  });

  it("deletes A's voicemail through A at once; never one being recorded; B cannot take A's", async () => {
    const file = await recordedOnA('vm-del-a');
    expect((await a.apiRequest('DELETE', '/v1/voicemails/vm-del-a')).status).toBe(204);
    expect(existsSync(file)).toBe(false);
    for (const desk of desks) await desk.frame(isFor('voicemail-deleted', 'vm-del-a'));
    const live = await recordedOnA('vm-live', 'recording');
    expect((await b.apiRequest('DELETE', '/v1/voicemails/vm-live')).status).toBe(409);
    expect((await a.apiRequest('DELETE', '/v1/voicemails/vm-live')).status).toBe(409);
    expect(existsSync(live)).toBe(true);
    const take = await b.apiRequest<{ error: { code: string; detail: string } }>(
      'POST',
      '/v1/voicemails/vm-live/take',
      { agentId: 'agent1' },
    );
    expect(take.status).toBe(421);
    expect(take.body.error.detail).toContain('gw-a');
    // Its live text is on A too: B refuses the WebSocket with 421.
    const ws = new WebSocket(
      `${b.gateway.httpUrl.replace('http', 'ws')}/v1/voicemails/vm-live/live?access_token=${API_KEY}`,
    );
    ws.on('error', () => undefined);
    const refusal = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    ws.terminate();
    expect(refusal).toBe(421);
    // Another tenant's agent heard of none of it.
    expect(rival.frames.filter((f) => String(f['type']).startsWith('voicemail'))).toEqual([]);
  });
});
