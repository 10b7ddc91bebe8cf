/**
 * A gateway killed mid-call (SIGKILL: no drain, no BYE) leaves an agent's
 * phone in a call no one is on. At its next start, on the same SIP port, it
 * closes the call's record and sends a BYE, with `Reason: …gateway_restart`,
 * in every answered leg's stored dialog that can still be reached: the real
 * baresip agent's call ends, and so does the SIP visitor's.
 *
 * The gateway runs as a child process (`parley-gateway --config`), as in
 * production, so the kill is a real one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type CallTokenIssuer,
} from '@parley/shared/tokens';
import {
  PortAllocator,
  spawnGateway,
  startBaresipAgent,
  stopAll,
  type BaresipAgent,
  type ManagedProcess,
  type PortBlock,
} from '@parley/testkit';
import type { SipRequest } from '../src/sip/message/index.js';
import { answeredVisitorCall, childGatewayConfig, okTo } from './answered-visitor-call.js';
import { RawSipClient } from './raw-sip.js';
import { RtpVisitor } from './rtp-visitor.js';

const API_KEY = 'restart-test-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'parley-restart-bye-'));
const configPath = join(dir, 'parley.json');
const ports = new PortAllocator();

let sipPort: PortBlock;
let mediaPorts: PortBlock;
let issuer: CallTokenIssuer;
let gateway: ManagedProcess | undefined;
let httpUrl = '';
let phone: BaresipAgent;
let client: RawSipClient;
let visitor: RtpVisitor;

/** Starts `parley-gateway --config` and waits until it listens. */
async function startGateway(): Promise<ManagedProcess> {
  const started = await spawnGateway({ configPath, env: { PARLEY_LOG_LEVEL: 'info' } });
  httpUrl = started.httpUrl;
  return started.process;
}

beforeAll(async () => {
  const [tenantKeys, gatewayKeys] = await Promise.all([
    generateSigningKeyPair('ES256'),
    generateEncryptionKeyPair(),
  ]);
  sipPort = await ports.allocate(1, { protocols: ['udp'] });
  mediaPorts = await ports.allocate(16, { protocols: ['udp'], even: true });
  const sip = `127.0.0.1:${sipPort.base}`;
  writeFileSync(
    configPath,
    childGatewayConfig({
      gatewayId: 'gw-restart',
      gatewayKey: gatewayKeys.privateJwk,
      tenantKey: tenantKeys.publicJwk,
      sipPort: sipPort.base,
      media: mediaPorts,
      extra: {
        api: { keys: [{ id: 'test', key: API_KEY }] },
        storage: { path: join(dir, 'parley.sqlite') },
      },
    }),
  );
  issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: 'gw-restart',
    signingKey: tenantKeys.privateJwk,
    encryptionKey: gatewayKeys.publicJwk,
  });
  gateway = await startGateway();
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: sip,
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
  await gateway?.stop();
  await stopAll();
  sipPort?.release();
  mediaPorts?.release();
  rmSync(dir, { recursive: true, force: true });
});

describe('a gateway killed mid-call', () => {
  it('sends the BYE at its next start: the baresip agent and the SIP visitor hang up', async () => {
    const sip = `127.0.0.1:${sipPort.base}`;
    const since = phone.sipMessages().length;
    const events = phone.mark();
    const { token } = await issuer.issue({
      subject: 'web-session-restart',
      scope: 'queue:sales',
      origin: 'https://shop.acme.test',
    });
    const { callId, invite, parleyCall } = await answeredVisitorCall({
      client,
      visitor,
      phone,
      sip,
      token,
      callId: `restart-${Date.now()}`,
    });

    // No drain, no BYE: the process is gone at once.
    gateway?.signal('SIGKILL');
    const exit = await gateway?.exited;
    expect(exit?.signal).toBe('SIGKILL');
    expect(
      phone.receivedRequests('BYE').filter((m) => m.raw.includes(invite.header('call-id') ?? '-')),
    ).toHaveLength(0);

    gateway = await startGateway();

    const bye = await phone.waitForRequest(
      'BYE',
      (m) => m.header('call-id') === invite.header('call-id'),
      15_000,
      { since },
    );
    expect(bye.header('reason')).toBe('SIP;cause=503;text="gateway_restart"');
    await phone.waitForEvent('CALL_CLOSED', undefined, 10_000, { since: events });

    const visitorBye = (await client.waitFor(
      (m) => m.type === 'request' && m.method === 'BYE' && m.callId === callId,
      15_000,
    )) as SipRequest;
    expect(visitorBye.headers.get('reason')).toBe('SIP;cause=503;text="gateway_restart"');
    client.send(sip, okTo(visitorBye));

    const res = await fetch(`${httpUrl}/v1/calls/${parleyCall}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const record = (await res.json()) as {
      state: string;
      outcome: string;
      reason: string;
      attempts: { agentId: string; status: number; endedAt: string | null }[];
      dialogs?: unknown;
    };
    expect(record).toMatchObject({
      state: 'ended',
      outcome: 'answered',
      reason: 'gateway_restart',
    });
    expect(record.attempts).toEqual([
      expect.objectContaining({ agentId: 'agent1', status: 200, endedAt: expect.any(String) }),
    ]);
    // The stored dialogs locate the parties: the API does not show them.
    expect(record.dialogs).toBeUndefined();
  });
});
