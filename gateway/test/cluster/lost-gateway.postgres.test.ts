/**
 * A gateway of a cluster killed mid-call (SIGKILL: no drain, no BYE), and a
 * survivor on the same PostgreSQL and Redis (issue 16): while the dead
 * gateway's lease in Redis holds, the survivor leaves its calls alone; once
 * it lapses, the survivor closes the call's record (`gateway_lost`) and sends
 * the BYEs the dead gateway cannot: the real baresip agent's call ends, and
 * so does the SIP visitor's. Nobody restarts the dead gateway.
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
  startBaresipAgent,
  startPostgres,
  startRedis,
  stopAll,
  until,
  type BaresipAgent,
  type ManagedProcess,
  type PortBlock,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import type { SipRequest } from '../../src/sip/message/index.js';
import { answeredVisitorCall, childGatewayConfig } from '../answered-visitor-call.js';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { RawSipClient } from '../raw-sip.js';
import { RtpVisitor } from '../rtp-visitor.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-lost-gateway-'));
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
let phone: BaresipAgent;
let client: RawSipClient;
let visitor: RtpVisitor;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const url = await postgres.createDatabase('parley_lost_gateway');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  const keys = await testKeys();
  const shared = { redis: { url: redis.url, keyPrefix: 'lost-test:' }, ...CLUSTER };
  const storage = { path: ':memory:', kind: 'postgres' as const, postgres: { url } };
  survivor = await startTestGateway({
    keys,
    agents: [{ id: 'agent1' }],
    config: { storage, shared: { ...shared, instanceId: 'gw-survivor' } },
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
        storage: { ...storage, path: join(dir, 'victim.sqlite') },
        shared: { ...shared, instanceId: 'gw-victim' },
      },
    }),
  );
  issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: survivor.gateway.config.gatewayId,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
  });
  victim = (await spawnGateway({ configPath, name: 'parley-victim' })).process;
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: `127.0.0.1:${sipPort.base}`,
    transport: 'udp',
  });
  await phone.registered();
  client = await RawSipClient.open();
  visitor = await RtpVisitor.open('PCMU');
}, 120_000);

afterAll(async () => {
  client?.close();
  visitor?.close();
  await phone?.stop();
  await victim?.stop();
  await survivor?.close();
  await db?.end();
  await Promise.all([postgres?.stop(), redis?.stop()]);
  await stopAll();
  sipPort?.release();
  mediaPorts?.release();
  rmSync(dir, { recursive: true, force: true });
});

async function row(id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT owner, state, outcome, reason FROM calls WHERE id = $1',
    [id],
  );
  return rows[0];
}

describe('a gateway of a cluster killed mid-call', () => {
  it('is left alone while its lease holds; then a survivor closes its call and sends the BYEs', async () => {
    const sip = `127.0.0.1:${sipPort.base}`;
    const since = phone.sipMessages().length;
    const events = phone.mark();
    const { token } = await issuer.issue({
      subject: 'web-session-lost',
      scope: 'queue:sales',
      origin: 'https://shop.acme.test',
    });
    const { callId, invite, parleyCall } = await answeredVisitorCall({
      client,
      visitor,
      phone,
      sip,
      token,
      callId: `lost-${Date.now()}`,
    });
    // The record's writes go behind the call (queued per call): wait for the answer's.
    await until(
      async () => (await row(parleyCall))?.state === 'answered',
      'the answered record in PostgreSQL',
    );
    expect(await row(parleyCall)).toMatchObject({ owner: 'gw-victim', state: 'answered' });

    // A live gateway's calls are not the survivor's to close.
    const sweeper = survivor.gateway.lostGateways;
    expect(sweeper).toBeDefined();
    expect(await sweeper?.sweep()).toBe(0);
    expect(await row(parleyCall)).toMatchObject({ state: 'answered' });

    victim?.signal('SIGKILL');
    expect((await victim?.exited)?.signal).toBe('SIGKILL');

    const bye = await phone.waitForRequest(
      'BYE',
      (m) => m.header('call-id') === invite.header('call-id'),
      20_000,
      { since },
    );
    expect(bye.header('reason')).toBe('SIP;cause=503;text="gateway_lost"');
    await phone.waitForEvent('CALL_CLOSED', undefined, 10_000, { since: events });
    const visitorBye = (await client.waitFor(
      (m) => m.type === 'request' && m.method === 'BYE' && m.callId === callId,
      15_000,
    )) as SipRequest;
    expect(visitorBye.headers.get('reason')).toBe('SIP;cause=503;text="gateway_lost"');

    expect(await row(parleyCall)).toMatchObject({
      owner: 'gw-victim',
      state: 'ended',
      outcome: 'answered',
      reason: 'gateway_lost',
    });
    const metric = await survivor.gateway.metrics.registry.getSingleMetricAsString(
      'parley_calls_lost_closed_total',
    );
    expect(metric).toMatch(/^parley_calls_lost_closed_total 1$/m);
    // Closed once: another pass finds nothing. (`sweep()` joins a pass in flight: the one
    // that closed the call may still be recovering the modules' records after its BYEs.)
    await sweeper?.sweep();
    expect(await sweeper?.sweep()).toBe(0);
  });
});
