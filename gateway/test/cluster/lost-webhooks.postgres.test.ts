/**
 * The voicemail webhook outbox shared by a cluster (issue 11 on issue 16's
 * cluster): gateway A, a child process on PostgreSQL and Redis, records a
 * real SIP caller's voicemail while the tenant's webhook is down (its port,
 * reserved by the testkit, refuses connections); the caller hangs up, so the
 * voicemail ends on A and its events wait in the outbox, tried and refused.
 * A is killed (SIGKILL) with them still there. The receiver comes up on the
 * same port; the survivor B, which never raised those events, sends them:
 * `voicemail-started` then `voicemail-ended`, each delivery id received
 * exactly once, and the outbox is empty. With the outbox in each gateway's
 * SQLite file, A's events would wait in A's file for ever and this fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { VoicemailCaller } from '../voicemail-caller.js';
import { startWebhookReceiver, type WebhookReceiver } from '../webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-lost-webhooks-'));
const ports = new PortAllocator();
// B looks at every lane of the outbox each heartbeat; a refused delivery is tried each second.
const CLUSTER = { heartbeatSeconds: 1, leaseSeconds: 3 };

let postgres: Postgres;
let redis: RedisServer;
let db: pg.Client;
let sipPort: PortBlock;
let mediaPorts: PortBlock;
let hookPort: PortBlock;
let issuer: CallTokenIssuer;
let victim: ManagedProcess | undefined;
let survivor: TestGateway;
let caller: VoicemailCaller;
let hooks: WebhookReceiver | undefined;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const url = await postgres.createDatabase('parley_lost_webhooks');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  // Reserved, and nobody listens yet: the receiver is down.
  hookPort = await ports.allocate(1, { protocols: ['tcp'], even: false });
  const webhook = { url: `http://127.0.0.1:${hookPort.base}/vm`, maxBackoffSeconds: 1 };

  const keys = await testKeys();
  const shared = { redis: { url: redis.url, keyPrefix: 'lost-hooks-test:' }, ...CLUSTER };
  const storage = { path: ':memory:', kind: 'postgres' as const, postgres: { url } };
  survivor = await startTestGateway({
    keys,
    agents: [{ id: 'agent1' }],
    tenantExtra: { voicemail: { webhook } },
    config: {
      storage: { ...storage, recordingsDir: join(dir, 'survivor') },
      shared: { ...shared, instanceId: 'gw-survivor' },
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
        tenants: {
          acme: { name: 'Acme Shop', jwks: [keys.tenant.publicJwk], voicemail: { webhook } },
        },
        storage: {
          ...storage,
          path: join(dir, 'victim.sqlite'),
          recordingsDir: join(dir, 'victim'),
        },
        shared: { ...shared, instanceId: 'gw-victim' },
        // Nobody of `sales` is signed in: voicemail answers at once, and records until the caller hangs up.
        queues: {
          sales: {
            tenant: 'acme',
            voicemail: {
              greeting: { say: 'Leave a message.' },
              silenceSeconds: 0,
              maxSeconds: 120,
            },
          },
        },
      },
    }),
  );
  issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: survivor.gateway.config.gatewayId,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
  });
  victim = (await spawnGateway({ configPath, name: 'parley-hooks-victim' })).process;
  caller = await VoicemailCaller.open();
}, 120_000);

afterAll(async () => {
  caller?.close();
  await victim?.stop();
  await survivor?.close();
  await db?.end();
  await hooks?.close();
  await Promise.all([postgres?.stop(), redis?.stop()]);
  await stopAll();
  for (const block of [sipPort, mediaPorts, hookPort]) block?.release();
  rmSync(dir, { recursive: true, force: true });
});

interface OutboxRow {
  delivery: string;
  body: string;
  attempts: number;
}

async function outbox(): Promise<{ delivery: string; type: string; attempts: number }[]> {
  const { rows } = await db.query<OutboxRow>(
    'SELECT delivery, body, attempts FROM vm_webhook_outbox ORDER BY id',
  );
  return rows.map((r) => ({
    delivery: r.delivery,
    type: (JSON.parse(r.body) as { type: string }).type,
    attempts: r.attempts,
  }));
}

describe("a dead gateway's unsent voicemail webhooks", () => {
  it(
    'are sent by a survivor once the receiver is back, each exactly once',
    { timeout: 120_000 },
    async () => {
      const sip = `127.0.0.1:${sipPort.base}`;
      const { token } = await issuer.issue({
        subject: 'web-session-lost-hooks',
        scope: 'queue:sales',
        origin: 'https://shop.acme.test',
      });
      await caller.call(sip, token);
      // A inserts the row at the beep; the caller then hangs up: the voicemail ends on A.
      const { rows: recorded } = await until(async () => {
        const found = await db.query<{ id: string; gateway: string }>(
          'SELECT id, gateway FROM vm_voicemails',
        );
        return found.rows.length > 0 ? found : undefined;
      }, 'the voicemail row in PostgreSQL');
      expect(recorded[0]).toMatchObject({ gateway: 'gw-victim' });
      const id = recorded[0]!.id;
      caller.hangUp(sip);

      // Both events wait in the shared outbox, the head tried and refused (the receiver is down).
      const waiting = await until(async () => {
        const rows = await outbox();
        return rows.some((r) => r.type === 'voicemail-ended') && rows[0]!.attempts > 0
          ? rows
          : undefined;
      }, "the ended voicemail's events in the outbox, refused");
      expect(waiting.map((r) => r.type)).toEqual(['voicemail-started', 'voicemail-ended']);

      victim?.signal('SIGKILL');
      expect((await victim?.exited)?.signal).toBe('SIGKILL');
      expect((await outbox()).map((r) => r.delivery)).toEqual(waiting.map((r) => r.delivery));

      // The receiver comes up where the webhook points; B sends what A raised.
      hooks = await startWebhookReceiver('/vm', hookPort.base);
      const got = hooks.deliveries;
      await until(async () => (await outbox()).length === 0, 'the outbox emptied by B', 30_000);
      expect(got.map((d) => d.body['type'])).toEqual(['voicemail-started', 'voicemail-ended']);
      expect(got.map((d) => (d.body['voicemail'] as { id?: string }).id)).toEqual([id, id]);
      // Exactly once, counted by delivery id: the ids the outbox held, each received once
      // (the receiver keeps a request before it answers, and a row goes after the 2xx).
      expect(got.map((d) => d.delivery)).toEqual(waiting.map((r) => r.delivery));
      expect(new Set(got.map((d) => d.delivery)).size).toBe(got.length);
      expect(got[1]!.body).toMatchObject({ tenant: 'acme', recordingUrl: expect.any(String) });
    },
  );
});
