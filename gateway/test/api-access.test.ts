/**
 * Who may read what through the API, over a real gateway: the agent-side
 * message WebSocket (`/v1/calls/<id>/messages`) and the session lookup by
 * caller-ID number (`/v1/sessions/by-number/<e164>`), with the full key, a key
 * without private claims and a key limited to another tenant.
 *
 * The call is real: a raw SIP INVITE with a call token over UDP, routed to an
 * agent with a fixed contact (a raw socket standing in for a PBX) that answers
 * 180 Ringing and nothing more, so the call stays up while the tests run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CallTokenPublicClaims } from '@parley/shared/tokens';
import { createResponse, serialize, type SipRequest } from '../src/sip/message/index.js';
import { API_KEY, ORIGIN, TENANT, startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

/** Sees every tenant, without private claims. */
const PUBLIC_KEY = 'public-api-key-0123456789';
/** Limited to another tenant. */
const GLOBEX_KEY = 'globex-api-key-0123456789';
/** May read, but not join calls' messages nor change agents. */
const READER_KEY = 'reader-api-key-0123456789';
const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const PRIVATE = { customerId: 'C-4242', name: 'Ada Lovelace', tier: 'gold' };

let gw: TestGateway;
let pbx: RawSipClient;
let visitor: RawSipClient;
let invite: string;
let call: { id: string; sessionId: string; sessionNumber: string; numberFallback: boolean };

beforeAll(async () => {
  pbx = await RawSipClient.open();
  visitor = await RawSipClient.open();
  gw = await startTestGateway({
    agents: [{ id: 'pbx', contact: `sip:pbx@127.0.0.1:${pbx.port}` }],
    ringTimeoutSeconds: 60,
    config: {
      api: {
        keys: [
          // The harness's own key (gw.api uses it): every tenant, private claims.
          { id: 'test', key: API_KEY, privateClaims: true },
          { id: 'public', key: PUBLIC_KEY, privateClaims: false },
          { id: 'globex', key: GLOBEX_KEY, tenant: 'globex', privateClaims: true },
          { id: 'reader', key: READER_KEY, scopes: ['read'] },
        ],
      },
    },
  });
  const token = await gw.token({ subject: 'web-session-access', privateClaims: PRIVATE });
  invite = inviteText({
    to: `sales@${gw.udp}`,
    port: visitor.port,
    branch: 'z9hG4bK-access-1',
    callId: 'access-call-1',
    headers: [`Authorization: Bearer ${token}`],
    sdp: SDP,
  });
  visitor.send(gw.udp, invite);
  const agentInvite = (await pbx.waitFor(
    (m) => m.type === 'request' && m.method === 'INVITE',
    5000,
  )) as SipRequest;
  pbx.send(gw.udp, serialize(createResponse(agentInvite, 180, undefined, { toTag: 'pbx1' })));
  await visitor.waitFor((m) => m.type === 'response' && m.status === 180, 5000);
  const { body } = await gw.api<{ calls: (typeof call)[] }>('/v1/calls');
  const found = body.calls.find((c) => c.sessionId === 'web-session-access');
  if (!found) throw new Error('the call was not stored');
  call = found;
  // The live record (the list above is read from storage, written at start and end).
  const live = await gw.api<{ state: string }>(`/v1/calls/${call.id}`);
  expect(live.body.state).toBe('ringing');
}, 20_000);

afterAll(async () => {
  await gw?.close();
  pbx?.close();
  visitor?.close();
});

function messagesUrl(callId: string, query = ''): string {
  return `${gw.gateway.httpUrl.replace(/^http/, 'ws')}/v1/calls/${callId}/messages${query}`;
}

/** The HTTP status the upgrade got: 101 when it opened (then closed at once). */
function upgradeStatus(url: string, key?: string): Promise<number> {
  const ws = new WebSocket(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', () => resolve(-1));
  });
}

/** An open message socket and every frame it received, in order. */
async function attach(url: string, key?: string) {
  const ws = new WebSocket(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('message', (data: Buffer) => {
    frames.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  /** Resolves with frame `n` (0-based) once it has arrived. */
  const frame = async (n: number) => {
    const deadline = Date.now() + 3000;
    while (frames.length <= n) {
      if (Date.now() > deadline) throw new Error(`no frame ${n} (got ${JSON.stringify(frames)})`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return frames[n];
  };
  return { ws, frames, frame, closed };
}

describe('the message WebSocket', () => {
  it('refuses an upgrade without an API key or with a wrong one (401)', async () => {
    expect(await upgradeStatus(messagesUrl(call.id))).toBe(401);
    expect(await upgradeStatus(messagesUrl(call.id), 'wrong-api-key-0123456789')).toBe(401);
    expect(await upgradeStatus(messagesUrl(call.id, '?access_token=wrong-api-key-012345'))).toBe(
      401,
    );
    // A prefix of a real key is not the key.
    expect(await upgradeStatus(messagesUrl(call.id), API_KEY.slice(0, -1))).toBe(401);
  });

  it('refuses a key limited to another tenant as if the call did not exist (404)', async () => {
    expect(await upgradeStatus(messagesUrl(call.id), GLOBEX_KEY)).toBe(404);
    expect(await upgradeStatus(messagesUrl(call.id, `?access_token=${GLOBEX_KEY}`))).toBe(404);
  });

  it('refuses a key without the messages scope (403)', async () => {
    expect(await upgradeStatus(messagesUrl(call.id), READER_KEY)).toBe(403);
    const res = await fetch(`${gw.gateway.httpUrl}/v1/calls/${call.id}`, {
      headers: { authorization: `Bearer ${READER_KEY}` },
    });
    expect(res.status).toBe(200);
  });

  it('refuses an unknown call id (404)', async () => {
    expect(await upgradeStatus(messagesUrl('00000000-0000-4000-8000-000000000000'), API_KEY)).toBe(
      404,
    );
  });

  it('lets the tenant’s agents talk: ack, stored with seq, refusals with ref, history to a late socket', async () => {
    const agent = await attach(messagesUrl(call.id), API_KEY);
    try {
      const chat = {
        type: 'chat',
        id: 'a1',
        at: new Date().toISOString(),
        text: 'How can I help?',
      };
      agent.ws.send(JSON.stringify(chat));
      // Stored and relayed to every agent socket (this one too), then acknowledged;
      // not delivered: the visitor is a plain SIP phone without a data channel.
      expect(await agent.frame(0)).toMatchObject({ seq: 1, from: 'agent', message: chat });
      expect(await agent.frame(1)).toEqual({ type: 'ack', id: 'a1', seq: 1, delivered: false });

      agent.ws.send(JSON.stringify({ type: 'chat', id: 'a2', at: chat.at, text: '' }));
      expect(await agent.frame(2)).toEqual({
        type: 'notice',
        code: 'message_rejected',
        ref: 'a2',
        reason: 'chat needs text',
      });
      agent.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect(await agent.frame(3)).toMatchObject({
        code: 'message_rejected',
        reason: 'binary frames are not accepted',
      });

      const stored = await gw.api<{ messages: unknown[] }>(`/v1/calls/${call.id}`);
      expect(stored.body.messages).toEqual([
        expect.objectContaining({ seq: 1, from: 'agent', message: chat }),
      ]);

      // A second socket (the query-string key) gets the history first.
      const late = await attach(messagesUrl(call.id, `?access_token=${PUBLIC_KEY}`));
      try {
        expect(await late.frame(0)).toMatchObject({ seq: 1, message: { id: 'a1' } });
      } finally {
        late.ws.close();
      }
    } finally {
      agent.ws.close();
    }
  });
});

describe('GET /v1/sessions/by-number/:number', () => {
  const byNumber = async (number: string, key?: string) => {
    const res = await fetch(
      `${gw.gateway.httpUrl}/v1/sessions/by-number/${encodeURIComponent(number)}`,
      key ? { headers: { authorization: `Bearer ${key}` } } : {},
    );
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('gave the call a number of the pool', () => {
    expect(call.numberFallback).toBe(false);
    expect(call.sessionNumber).toMatch(/^\+1555010\d$/);
  });

  it('refuses a request without a key or with a wrong one (401)', async () => {
    const none = await byNumber(call.sessionNumber);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect(JSON.stringify(none.body)).not.toContain('web-session-access');
    const wrong = await byNumber(call.sessionNumber, 'wrong-api-key-0123456789');
    expect(wrong.status).toBe(401);
  });

  it('shows the full key the session: tenant, origin, public and private claims, its calls', async () => {
    const { status, body } = await byNumber(call.sessionNumber, API_KEY);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      tenant: TENANT,
      sessionId: 'web-session-access',
      number: call.sessionNumber,
      origin: ORIGIN,
      privateClaims: PRIVATE,
    });
    const claims = body['publicClaims'] as CallTokenPublicClaims;
    expect(claims).toMatchObject({
      iss: TENANT,
      aud: 'gw-test',
      sub: 'web-session-access',
      scope: 'queue:sales',
      origin: ORIGIN,
    });
    expect(claims.exp - claims.iat).toBeGreaterThan(0);
    // Public claims only: the sealed envelope is not passed on.
    expect(claims).not.toHaveProperty('enc');
    expect(body['calls']).toEqual([expect.objectContaining({ id: call.id, endedAt: null })]);
  });

  it('shows a key without privateClaims no private claims, anywhere in the answer', async () => {
    const { status, body } = await byNumber(call.sessionNumber, PUBLIC_KEY);
    expect(status).toBe(200);
    expect(body).toMatchObject({ tenant: TENANT, origin: ORIGIN, sessionId: 'web-session-access' });
    expect(body['publicClaims']).toMatchObject({ iss: TENANT, sub: 'web-session-access' });
    expect(body).not.toHaveProperty('privateClaims');
    expect(JSON.stringify(body)).not.toContain('Ada Lovelace');
  });

  // The call records keep `customerId`, read from the sealed private claims.
  it('hides the customer id taken from the private claims from a key without privateClaims', async () => {
    const { body } = await byNumber(call.sessionNumber, PUBLIC_KEY);
    expect(JSON.stringify(body)).not.toContain(PRIVATE.customerId);
    const full = await byNumber(call.sessionNumber, API_KEY);
    expect(JSON.stringify(full.body)).toContain(PRIVATE.customerId);
  });

  it('answers a key of another tenant 404, exactly as for a number nobody holds', async () => {
    const other = await byNumber(call.sessionNumber, GLOBEX_KEY);
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain('web-session-access');
    const free = await byNumber('+15550198', API_KEY);
    expect(free.status).toBe(404);
    expect(other.body['error']).toMatchObject({ code: 'not_found' });
    expect(Object.keys(other.body['error'] as object)).toEqual(
      Object.keys(free.body['error'] as object),
    );
    expect((await byNumber('5550100', API_KEY)).status).toBe(400);
  });
});

describe('when the call ends', () => {
  it('an attached socket gets call_ended and a 1000 close; the number stays the session’s for its grace period', async () => {
    const agent = await attach(messagesUrl(call.id), API_KEY);
    expect(await agent.frame(0)).toMatchObject({ seq: 1 }); // the history
    const from = /^From: .*$/m.exec(invite)?.[0] ?? '';
    visitor.send(
      gw.udp,
      [
        `CANCEL sip:sales@${gw.udp} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${visitor.port};branch=z9hG4bK-access-1;rport`,
        from,
        `To: <sip:sales@${gw.udp}>`,
        'Call-ID: access-call-1',
        'CSeq: 1 CANCEL',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(await agent.frame(1)).toEqual({
      type: 'notice',
      code: 'call_ended',
      reason: 'cancelled',
    });
    expect(await agent.closed).toEqual({ code: 1000, reason: 'call ended' });

    // An ended call still opens (history, then call_ended) for the tenant, and stays refused to others.
    const after = await attach(messagesUrl(call.id), API_KEY);
    expect(await after.frame(0)).toMatchObject({ seq: 1, message: { id: 'a1' } });
    expect(await after.frame(1)).toMatchObject({ type: 'notice', code: 'call_ended' });
    expect((await after.closed).code).toBe(1000);
    expect(await upgradeStatus(messagesUrl(call.id), GLOBEX_KEY)).toBe(404);

    const res = await fetch(
      `${gw.gateway.httpUrl}/v1/sessions/by-number/${encodeURIComponent(call.sessionNumber)}`,
      { headers: { authorization: `Bearer ${PUBLIC_KEY}` } },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sessionId: 'web-session-access',
      calls: [{ id: call.id, state: 'ended', outcome: 'cancelled' }],
    });
  });
});
