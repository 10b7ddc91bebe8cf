/**
 * A SIP visitor's call to the `sales` queue, answered by a baresip agent, made
 * with raw SIP so a test can kill the gateway in the middle of it and see who
 * sends the BYE afterwards (restart.baresip, cluster/lost-gateway.postgres).
 */
import type { BaresipAgent, SipMessage } from '@parley/testkit';
import { expect } from 'vitest';
import type { SipRequest, SipResponse } from '../src/sip/message/index.js';
import { inviteText, type RawSipClient } from './raw-sip.js';
import type { RtpVisitor } from './rtp-visitor.js';

export interface AnsweredCall {
  /** The visitor's SIP Call-ID. */
  readonly callId: string;
  /** The INVITE the agent's phone received (its Call-ID, its X-Parley-Call). */
  readonly invite: SipMessage;
  /** Parley's call id (the record's). */
  readonly parleyCall: string;
}

/** Calls `sales@<sip>` with `token`, ACKs the 200, waits until the phone is in the call. */
export async function answeredVisitorCall(o: {
  client: RawSipClient;
  visitor: RtpVisitor;
  phone: BaresipAgent;
  sip: string;
  token: string;
  callId: string;
}): Promise<AnsweredCall> {
  const { client, phone, sip, callId } = o;
  const since = phone.sipMessages().length;
  const events = phone.mark();
  client.send(
    sip,
    inviteText({
      to: `sales@${sip}`,
      port: client.port,
      callId,
      headers: [`Authorization: Bearer ${o.token}`],
      sdp: o.visitor.sdp(),
    }),
  );
  const ok = (await client.waitFor(
    (m) => m.type === 'response' && m.callId === callId && m.status === 200,
    15_000,
  )) as SipResponse;
  client.send(sip, ackFor(ok, client.port));
  await phone.waitForEvent('CALL_ESTABLISHED', undefined, 10_000, { since: events });
  const invite = await phone.waitForRequest('INVITE', undefined, 5000, { since });
  const parleyCall = invite.header('x-parley-call') ?? '';
  expect(parleyCall).not.toBe('');
  return { callId, invite, parleyCall };
}

/** The visitor's ACK for the 2xx (RFC 3261 §13.2.2.4). */
function ackFor(ok: SipResponse, port: number): string {
  const target = /<([^>]+)>/.exec(ok.headers.get('contact') ?? '')?.[1] ?? '';
  return [
    `ACK ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-ack-${Date.now()};rport`,
    `From: ${ok.headers.get('from')}`,
    `To: ${ok.headers.get('to')}`,
    `Call-ID: ${ok.callId}`,
    'CSeq: 1 ACK',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The visitor's 200 to a request the gateway sent it (a BYE). */
export function okTo(request: SipRequest): string {
  return [
    'SIP/2.0 200 OK',
    ...request.headers.getLines('via').map((v) => `Via: ${v}`),
    `From: ${request.headers.get('from')}`,
    `To: ${request.headers.get('to')}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.headers.get('cseq')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * The config of a child-process gateway for those tests: tenant `acme` with
 * queue `sales` and agent `agent1` (password `secret`, MD5: baresip 1.0 fails
 * on a SHA-256 challenge instead of skipping it), no media inactivity timeout
 * (the visitor sends no audio: only the kill may end the call). `extra` is
 * spread over it (storage, shared, api).
 */
export function childGatewayConfig(o: {
  gatewayId: string;
  gatewayKey: unknown;
  tenantKey: unknown;
  sipPort: number;
  media: { base: number; size: number };
  extra: Record<string, unknown>;
}): string {
  return JSON.stringify({
    gatewayId: o.gatewayId,
    http: { host: '127.0.0.1', port: 0 },
    tokens: { encryptionKeys: [o.gatewayKey] },
    tenants: { acme: { name: 'Acme Shop', jwks: [o.tenantKey] } },
    sip: {
      domain: 'parley.test',
      listen: [{ protocol: 'udp', host: '127.0.0.1', port: o.sipPort }],
      t1Ms: 100,
      // As in the harness: a machine running other suites lags by hundreds of ms, and
      // the lag guard (300 ms by default) would refuse these tests' calls 503.
      overload: { maxLagMs: 10_000 },
    },
    queues: { sales: { tenant: 'acme', ringTimeoutSeconds: 10 } },
    agents: [
      {
        id: 'agent1',
        tenant: 'acme',
        password: 'secret',
        queues: ['sales'],
        digestAlgorithms: ['MD5'],
      },
    ],
    media: {
      address: '127.0.0.1',
      portMin: o.media.base,
      portMax: o.media.base + o.media.size - 1,
      inactivityTimeoutSeconds: 0,
    },
    ...o.extra,
  });
}
