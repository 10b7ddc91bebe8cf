/**
 * A gateway of a cluster killed (SIGKILL) while a caller leaves a voicemail,
 * and a survivor on the same PostgreSQL and Redis (issue 11 on issue 16's
 * cluster): the victim, a child process, answers a SIP caller's call to a
 * queue nobody staffs with voicemail, records it and stores the transcript's
 * first final; then it is killed. While its lease holds the survivor leaves
 * the row alone; once it lapsed, the survivor's lost-gateway sweeper ends the
 * row (`left`, `gateway_lost`) with the transcript and the WAV's path kept,
 * and publishes `voicemail-ended` once: the queue agent's desk on the
 * survivor gets it and so does the tenant's webhook (a real HTTP server).
 * Nobody restarts the victim, so its rows are the survivor's to sweep: a
 * delete asked on the survivor (202: the WAV is the victim's) is carried out
 * by the survivor's retention (the row, and the WAV, whose path this test's
 * gateways share a disk for).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallTokenIssuer, type CallTokenIssuer } from '@parley/shared/tokens';
import {
  PortAllocator,
  spawnGateway,
  startPostgres,
  startRedis,
  stopAll,
  until,
  type ManagedProcess,
  type PortBlock,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import { childGatewayConfig } from '../answered-visitor-call.js';
import { deskSocket, type DeskSocket } from '../desk-socket.js';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { VoicemailCaller } from '../voicemail-caller.js';
import { VOICEMAIL_SENTENCE } from '../voicemail-setup.js';
import { startWebhookReceiver, type WebhookReceiver } from '../webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-lost-voicemail-'));
const ports = new PortAllocator();
// Short so the test is short; the survivor looks every heartbeat.
const CLUSTER = { heartbeatSeconds: 1, leaseSeconds: 3 };

let postgres: Postgres;
let redis: RedisServer;
let db: pg.Client;
let sipPort: PortBlock;
let mediaPorts: PortBlock;
let issuer: CallTokenIssuer;
let victim: ManagedProcess | undefined;
let survivor: TestGateway;
let caller: VoicemailCaller;
let desk: DeskSocket | undefined;
let hooks: WebhookReceiver;
/** The bodies the tenant's webhook received. */
let received: Record<string, unknown>[] = [];

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const url = await postgres.createDatabase('parley_lost_voicemail');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  hooks = await startWebhookReceiver();
  received = hooks.received;
  const hookUrl = hooks.url;

  const keys = await testKeys();
  const shared = { redis: { url: redis.url, keyPrefix: 'lost-vm-test:' }, ...CLUSTER };
  const storage = { path: ':memory:', kind: 'postgres' as const, postgres: { url } };
  survivor = await startTestGateway({
    keys,
    agents: [{ id: 'agent1' }],
    tenantExtra: { voicemail: { webhook: { url: hookUrl } } },
    config: {
      storage: { ...storage, recordingsDir: join(dir, 'survivor') },
      shared: { ...shared, instanceId: 'gw-survivor' },
      voicemail: { sweepIntervalSeconds: 1 },
    },
  });

  sipPort = await ports.allocate(1, { protocols: ['udp'] });
  mediaPorts = await ports.allocate(16, { protocols: ['udp'], even: true });
  const configPath = join(dir, 'victim.json');
  writeFileSync(
    configPath,
    childGatewayConfig({
      gatewayId: survivor.gateway.config.gatewayId,
      gatewayKey: keys.gateway.privateJwk,
      tenantKey: keys.tenant.publicJwk,
      sipPort: sipPort.base,
      media: mediaPorts,
      extra: {
        storage: {
          ...storage,
          path: join(dir, 'victim.sqlite'),
          recordingsDir: join(dir, 'victim'),
        },
        shared: { ...shared, instanceId: 'gw-victim' },
        // Nobody of `sales` is signed in: voicemail answers at once.
        queues: {
          sales: {
            tenant: 'acme',
            voicemail: {
              greeting: { say: 'Please leave a message.' },
              silenceSeconds: 0,
              maxSeconds: 120,
            },
          },
        },
        // The recogniser's finals come late on a loaded machine.
        speech: { endTimeoutMs: 60_000 },
      },
    }),
  );
  issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: survivor.gateway.config.gatewayId,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
  });
  victim = (await spawnGateway({ configPath, name: 'parley-vm-victim' })).process;
  caller = await VoicemailCaller.open();
}, 120_000);

afterAll(async () => {
  desk?.ws.close();
  caller?.close();
  await victim?.stop();
  await survivor?.close();
  await db?.end();
  await hooks?.close();
  await Promise.all([postgres?.stop(), redis?.stop()]);
  await stopAll();
  sipPort?.release();
  mediaPorts?.release();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  id: string;
  status: string;
  end_reason: string | null;
  gateway: string;
  utterances: string;
  transcript: string | null;
  duration_ms: string;
  ended_at: string | null;
  recording_path: string | null;
}

async function rows(): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    `SELECT id, status, end_reason, gateway, utterances, transcript, duration_ms, ended_at,
       recording_path FROM vm_voicemails`,
  );
  return rows;
}

describe('a gateway of a cluster killed while a caller leaves a voicemail', () => {
  it(
    'is left alone while its lease holds; then a survivor ends the voicemail and says so once',
    { timeout: 150_000 },
    async () => {
      const sip = `127.0.0.1:${sipPort.base}`;
      const speech = await VoicemailCaller.speech(VOICEMAIL_SENTENCE);
      const { token } = await issuer.issue({
        subject: 'web-session-lost-vm',
        scope: 'queue:sales',
        origin: 'https://shop.acme.test',
      });
      await caller.call(sip, token);
      // The victim inserts the row at the beep.
      const [recording] = await until(async () => {
        const found = await rows();
        return found.length > 0 ? found : undefined;
      }, 'the voicemail row in PostgreSQL');
      expect(recording).toMatchObject({ status: 'recording', gateway: 'gw-victim' });
      const id = recording!.id;
      desk = await deskSocket(survivor.gateway.httpUrl, 'agent1', 'secret');
      caller.say(speech);
      // The transcript's first final is stored (the caller's silence after the sentence ends it).
      await until(
        async () => (await rows())[0]?.transcript ?? undefined,
        'a final stored in the row',
        60_000,
      );

      // A live gateway's voicemails are not the survivor's to end.
      const sweeper = survivor.gateway.lostGateways;
      expect(sweeper).toBeDefined();
      await sweeper?.sweep();
      expect((await rows())[0]).toMatchObject({ status: 'recording', end_reason: null });

      victim?.signal('SIGKILL');
      expect((await victim?.exited)?.signal).toBe('SIGKILL');

      const ended = await desk.frame(
        (f) =>
          f['type'] === 'voicemail-ended' &&
          (f['voicemail'] as { id?: string } | undefined)?.id === id,
      );
      expect(ended['voicemail']).toMatchObject({
        id,
        status: 'left',
        endReason: 'gateway_lost',
        hasRecording: true,
      });
      const [row] = await rows();
      expect(row).toMatchObject({
        id,
        status: 'left',
        end_reason: 'gateway_lost',
        gateway: 'gw-victim',
      });
      // What the victim wrote is kept: the transcript, its timed parts, the WAV's path.
      const utterances = JSON.parse(row!.utterances) as { endMs: number }[];
      expect(utterances.length).toBeGreaterThan(0);
      expect(row!.transcript).toMatch(/\w/);
      expect(Number(row!.duration_ms)).toBe(Math.max(...utterances.map((u) => u.endMs)));
      expect(row!.recording_path).toBe(recording!.recording_path);
      // The WAV stays on the victim's disk, written up to about its last second.
      expect(existsSync(row!.recording_path!)).toBe(true);
      expect(statSync(row!.recording_path!).size).toBeGreaterThan(44 + 8000);

      // The company hears it from the survivor (the victim's outbox is the victim's).
      const hook = await until(
        () =>
          received.find(
            (b) =>
              b['type'] === 'voicemail-ended' &&
              (b['voicemail'] as { id?: string } | undefined)?.id === id,
          ),
        'the voicemail-ended webhook',
      );
      expect(hook['voicemail']).toMatchObject({ status: 'left', endReason: 'gateway_lost' });
      // Ended once: the next passes find nothing, and nothing more is said.
      await sweeper?.sweep();
      await sweeper?.sweep();
      expect((await rows())[0]?.ended_at).toBe(row!.ended_at);
      expect(desk.frames.filter((f) => f['type'] === 'voicemail-ended')).toHaveLength(1);
      expect(received.filter((b) => b['type'] === 'voicemail-ended')).toHaveLength(1);
    },
  );

  it("has the survivor's retention sweep the lost gateway's rows (a delete asked there)", async () => {
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'left', gateway: 'gw-victim' });
    const res = await survivor.apiRequest('DELETE', `/v1/voicemails/${row!.id}`);
    // The WAV is the victim's: marked for it, hidden at once.
    expect(res.status).toBe(202);
    // The victim's lease lapsed: the survivor's sweep (every second) takes its rows over.
    await until(async () => (await rows()).length === 0, 'the row swept by the survivor', 15_000);
    expect(existsSync(row!.recording_path!)).toBe(false);
  });
});
