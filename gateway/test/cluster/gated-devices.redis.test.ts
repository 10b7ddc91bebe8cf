/**
 * A gated facility's device presence shared by the cluster (issue 16 item 1,
 * "an agent registered through one gateway can be rung by any", for
 * residents' devices): gateways A and B on one PostgreSQL (the residents,
 * devices and accounts) and one Redis (`shared.redis`: the devices'
 * registrations and the residents' sign-ins). A sipp phone registered with A
 * is rung by a gated call placed through B, connects on its resident's PIN
 * with audio both ways; a resident's sign-in on an app through A is seen by
 * B, and by a gateway started after; a sign-out and a new credential made
 * through A end them on B too, and the shared keys expire. Redis restarted
 * empty: A writes its registrations and sign-ins again.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startPostgres,
  startRedis,
  startSipp,
  stopAll,
  until,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinHasher } from '../../src/gated/index.js';
import type { SipResponse } from '../../src/sip/message/index.js';
import { TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { ackText, inDialogText } from '../raw-call.js';
import { RawSipClient, inviteText } from '../raw-sip.js';
import { RtpVisitor } from '../rtp-visitor.js';
import { seedGatedResident } from './gated-seed.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const PREFIX = 'gated-devices-test:';
const base = `/v1/gated/${TENANT}`;

let postgres: Postgres;
let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
let start: (instanceId: string) => Promise<TestGateway>;
const others: TestGateway[] = [];
const clients: RawSipClient[] = [];

interface DeviceView {
  registered: boolean;
  active: boolean;
  signedIn: { residentId: string } | null;
}

beforeAll(async () => {
  postgres = await startPostgres();
  redis = await startRedis();
  const url = await postgres.createDatabase('parley_gated_devices');
  const keys = await testKeys();
  start = (instanceId: string) =>
    startTestGateway({
      keys,
      agents: [],
      tenantExtra: { gated: { pin: { delayMs: 0 } } },
      sipExtra: { digestAlgorithms: ['MD5'] },
      pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
      config: {
        media: { address: '127.0.0.1' },
        storage: { path: ':memory:', kind: 'postgres', postgres: { url } },
        shared: { instanceId, redis: { url: redis.url, keyPrefix: PREFIX } },
      },
    });
  a = await start('gw-a');
  b = await start('gw-b');
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const gw of others) await gw.close();
  await a?.close();
  await b?.close();
  await redis?.stop();
  await postgres?.stop();
  await stopAll();
});

async function client(): Promise<RawSipClient> {
  const c = await RawSipClient.open();
  clients.push(c);
  return c;
}

async function device(gw: TestGateway, address: string): Promise<DeviceView> {
  return (await gw.api<DeviceView>(`${base}/devices/${address}`)).body;
}

/** An app device made through A, its resident (`name`, `pin`), the app registered with A only. */
async function registeredApp(dev: string, resident: string, name: string, pin: string) {
  const made = await a.apiRequest<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${base}/devices/${dev}`,
    { kind: 'app' },
  );
  const app = made.body.credential;
  await a.apiRequest('PUT', `${base}/residents/${resident}`, { name, pin, devices: [dev] });
  const registrar = await client();
  const registered = await registrar.register(
    a.udp,
    app.sipUser,
    app.secret,
    [`<sip:${app.sipUser}@127.0.0.1:${registrar.port}>`],
    [],
    'MD5',
  );
  expect(registered.status).toBe(200);
}

describe('gated devices shared by two gateways through Redis', () => {
  it('rings through B a phone registered with A: connected on its PIN, audio both ways', async () => {
    const sipp = await startSipp({
      scenario: { file: join(FIXTURES, 'sipp-gated-device.xml') },
      calls: 1,
      rtpEcho: true,
      timeoutMs: 120_000,
    });
    const registrar = await client();
    const visitor = await client();
    const rtp = await RtpVisitor.open('PCMU', 1000);
    try {
      const { phone, account: ada } = await seedGatedResident(a);
      // The phone registers with A only.
      const registered = await registrar.register(
        a.udp,
        phone.sipUser,
        phone.secret,
        [`<sip:${phone.sipUser}@127.0.0.1:${sipp.localPort}>`],
        [],
        'MD5',
      );
      expect(registered.status).toBe(200);
      await until(async () => (await device(b, 'cell-19')).registered, 'B to see the phone');
      expect(b.gateway.gated.gate.deviceContacts(TENANT, 'cell-19')).toEqual([
        expect.objectContaining({
          uri: `sip:${phone.sipUser}@127.0.0.1:${sipp.localPort}`,
          flowId: undefined,
        }),
      ]);
      // The shared hash lapses with the registration.
      const ttl = Number(await redis.cli('pttl', `${PREFIX}device:${TENANT}:cell-19`));
      const expiresAt = b.gateway.gated.gate.deviceContacts(TENANT, 'cell-19')[0]!.expiresAt;
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(expiresAt - Date.now() + 1000);

      const sipCallId = `gated-redis-${Date.now()}`;
      const token = await b.token({ privateClaims: { account: ada.number } });
      visitor.send(
        b.udp,
        inviteText({
          to: `sales@${b.udp}`,
          port: visitor.port,
          callId: sipCallId,
          headers: [`Authorization: Bearer ${token}`],
          sdp: rtp.sdp(),
        }),
      );
      const ok = (await visitor.waitFor(
        (m) => m.type === 'response' && m.callId === sipCallId && m.status >= 200,
        60_000,
      )) as SipResponse;
      expect(ok.status).toBe(200);
      visitor.send(b.udp, ackText(visitor, ok));
      const sdp = ok.body.toString();
      rtp.start(/^c=IN IP4 (\S+)/m.exec(sdp)?.[1] ?? '', Number(/^m=audio (\d+) /m.exec(sdp)?.[1]));
      // The caller's 1 kHz goes to the phone and comes back (sipp echoes): both ways.
      await until(() => (rtp.received.get(0) ?? []).length > 100, 'the echoed tone', 20_000);
      visitor.send(b.udp, inDialogText(visitor, ok, 'BYE', 2));
      await visitor.waitFor(
        (m) => m.type === 'response' && m.callId === sipCallId && m.cseq.method === 'BYE',
        10_000,
      );
      rtp.stop();
      const heard = await rtp.analyseReceived();
      expect(heard.roughFrequencyHz).toBeGreaterThan(950);
      expect(heard.roughFrequencyHz).toBeLessThan(1050);
      expect((await sipp.result).stats.successful).toBe(1);
    } finally {
      rtp.close();
      await sipp.stop().catch(() => undefined);
    }
  });

  it('shows on B a sign-in and a sign-out made through A, and a new credential ends both', async () => {
    await registeredApp('tab-1', 'r-1', 'Rita', '2468');
    await until(async () => (await device(b, 'tab-1')).registered, 'B to see the app registered');
    expect(await device(b, 'tab-1')).toMatchObject({ active: false, signedIn: null });

    expect((await a.gateway.gated.gate.signIn(TENANT, 'tab-1', { pin: '2468' })).ok).toBe(true);
    const signedIn = await until(
      async () => (await device(b, 'tab-1')).signedIn,
      'B to see the sign-in',
    );
    expect(signedIn.residentId).toBe('r-1');
    expect(await device(b, 'tab-1')).toMatchObject({ active: true, registered: true });

    // A gateway started now reads both at start.
    const c = await start('gw-c');
    others.push(c);
    expect(await device(c, 'tab-1')).toMatchObject({
      registered: true,
      active: true,
      signedIn: { residentId: 'r-1' },
    });

    a.gateway.gated.gate.signOut(TENANT, 'tab-1');
    await until(async () => (await device(b, 'tab-1')).signedIn === null, 'B to see the sign-out');
    expect((await a.gateway.gated.gate.signIn(TENANT, 'tab-1', { pin: '2468' })).ok).toBe(true);
    await until(async () => (await device(b, 'tab-1')).signedIn, 'B to see the new sign-in');

    // A new credential through A: the device is forgotten on every gateway.
    const rotated = await a.apiRequest('POST', `${base}/devices/tab-1/credential`);
    expect(rotated.status).toBe(200);
    const gone = await until(async () => {
      const view = await device(b, 'tab-1');
      return !view.registered && view.signedIn === null && view;
    }, 'B to forget the device');
    expect(gone.active).toBe(false);
    // Left: when the sign-in ended (a gateway cut off meanwhile does not write it back).
    expect((await redis.cli('hkeys', `${PREFIX}device:${TENANT}:tab-1`)).trim()).toBe('signedOut');
  });

  it('writes again when Redis comes back empty: a sign-in made through A while it was away, its phone', async () => {
    await registeredApp('tab-2', 'r-2', 'Rob', '1357');
    await until(async () => (await device(b, 'tab-2')).registered, 'B to see the app registered');

    await redis.kill();
    await until(() => !a.gateway.shared.redis?.up, "A's link down");
    // The resident signs in through A while Redis is away: A cannot tell anyone.
    expect((await a.gateway.gated.gate.signIn(TENANT, 'tab-2', { pin: '1357' })).ok).toBe(true);
    expect((await device(b, 'tab-2')).signedIn).toBeNull();

    // Redis comes back, empty: A writes its registration and its sign-in again.
    await redis.restart();
    const view = await until(
      async () => {
        const v = await device(b, 'tab-2');
        return v.signedIn && v.registered && v;
      },
      'B to hear the sign-in once Redis is back',
      20_000,
    );
    expect(view).toMatchObject({ active: true, signedIn: { residentId: 'r-2' } });
    await until(
      async () => Number(await redis.cli('pttl', `${PREFIX}device:${TENANT}:tab-2`)) > 0,
      'the hash written again, with its expiry',
    );
  }, 90_000);
});
