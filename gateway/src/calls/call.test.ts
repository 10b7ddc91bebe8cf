/**
 * The call's API with real legs on 127.0.0.1: a raw SIP caller (or a werift
 * peer standing in for a browser) and a raw SIP agent. By default the caller
 * is answered when the agent answers; with `answer`, the gateway answers the
 * caller itself first with the codec it picked, offers the agent that codec
 * only, and joins the agent's media when it answers. The record keeps each
 * attempt's end and the answered legs' dialogs.
 */
import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import { AgentDirectory } from '../agents/index.js';
import type { SipResponse } from '../sip/index.js';
import { SessionNumberPool } from '../numbers/index.js';
import {
  SqliteCallStore,
  SqliteSessionStore,
  openDatabase,
  type SqliteDatabase,
} from '../storage/index.js';
import { inviteText } from '../../test/raw-sip.js';
import { Call } from './call.js';
import type { CallerAnswer } from './call-types.js';
import {
  SipPeer,
  openTestEngine,
  openTestStack,
  plainSdp,
  silent,
  type TestStack,
} from './test-peers.js';

let gw: TestStack;
let media: Awaited<ReturnType<typeof openTestEngine>>;
let db: SqliteDatabase;
let caller: SipPeer;
let agent: SipPeer;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  gw = await openTestStack();
  media = await openTestEngine();
  db = openDatabase(':memory:');
});
afterAll(async () => {
  await gw?.close();
  await media?.close();
  db?.close();
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const token = {
  claims: {
    iss: 'acme',
    aud: 'gw-test',
    sub: 'web-session-1',
    jti: 'jti-1',
    iat: 0,
    nbf: 0,
    exp: 0,
    scope: 'queue:sales',
    origin: 'https://shop.acme.test',
  },
  privateClaims: { name: 'Ada Lovelace', customerId: 'C-1' },
  kid: 'k1',
  alg: 'ES256',
} as VerifiedCallToken;

/** A call for the caller's INVITE carrying `sdp`, with one agent (the raw agent peer, a fixed contact). */
async function placeCall(sdp: string, answer?: CallerAnswer, ringAgents?: boolean) {
  caller = await SipPeer.open();
  agent = await SipPeer.open();
  cleanups.push(
    () => caller.close(),
    () => agent.close(),
  );
  const store = new SqliteCallStore(db);
  const call = new Call(
    {
      stack: gw.stack,
      media: media.engine,
      agents: new AgentDirectory([
        {
          id: 'agent1',
          tenant: 'acme',
          password: 'secret',
          queues: ['sales'],
          maxCalls: 1,
          contact: agent.uri,
        },
      ]),
      numbers: new SessionNumberPool({
        config: {
          ranges: [{ from: '+15550100', to: '+15550109' }],
          fallback: '+15550199',
          graceSeconds: 0,
        },
        store: new SqliteSessionStore(db),
        logger: silent,
      }),
      calls: store,
      logger: silent,
      domain: 'parley.test',
      tenantName: () => 'Acme Shop',
      queue: () => ({
        ringTimeoutSeconds: 5,
        maxAttempts: 1,
        wrapUpSeconds: 0,
        routing: { strategy: 'sequential', ringAtOnce: 2, bands: {} },
      }),
      mediaInactivityMs: 0,
    },
    await (async () => {
      const arriving = gw.nextInvite();
      const callId = `call-${Date.now()}-${Math.random()}`;
      caller.send(
        gw.address,
        inviteText({ to: `sales@${gw.address}`, port: caller.port, callId, sdp }),
      );
      const { invite, tx } = await arriving;
      return { invite, tx, flow: tx.flow, token, queue: 'sales', answer, ringAgents };
    })(),
  );
  cleanups.push(() => call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'test_over' }));
  return { call, callId: call.caller.invite.callId, store };
}

const audio = (sdp: string | Buffer) => /^m=audio .*$/m.exec(sdp.toString())?.[0] ?? '';
const formats = (sdp: string | Buffer) => audio(sdp).split(' ').slice(3).map(Number);

const callerOffer = (port: number) =>
  plainSdp(port, [
    [8, 'PCMA/8000'],
    [0, 'PCMU/8000'],
    [101, 'telephone-event/8000'],
  ]);

describe('Call', () => {
  it('by default answers the caller when the agent answers, with the agent’s SDP through the relay', async () => {
    const { call, callId, store } = await placeCall(callerOffer((await openRtp()).port));
    await call.start();
    const offer = await agent.request('INVITE');
    expect(formats(offer.body)).toEqual([8, 0, 101]); // the caller's codecs, all of them
    agent.respond(gw.address, offer, 180);
    await caller.response(callId, 180);
    const phone = await openRtp();
    agent.respond(gw.address, offer, 200, { sdp: plainSdp(phone.port, [[8, 'PCMA/8000']]) });
    const ok = await caller.response(callId, 200);
    expect(formats(ok.body)).toEqual([8]);
    caller.inDialog(gw.address, ok, 'ACK', 1);
    await expect.poll(() => call.state, { timeout: 10_000 }).toBe('answered');
    expect(call.legs.map((l) => l.name)).toEqual(['caller', 'agent:agent1']);

    caller.inDialog(gw.address, ok, 'BYE', 2);
    expect((await agent.request('BYE', offer.callId)).headers.get('reason')).toBe(
      'SIP;cause=200;text="normal_clearing"',
    );
    await expect.poll(() => call.state, { timeout: 10_000 }).toBe('ended');
    const record = await store.get(call.id);
    expect(record?.attempts).toEqual([
      expect.objectContaining({ agentId: 'agent1', status: 200, endedAt: expect.any(Number) }),
    ]);
    expect(record?.dialogs.map((d) => [d.leg, d.callId])).toEqual([
      ['caller', callId],
      ['agent:agent1', offer.callId],
    ]);
  });

  it('answers a SIP caller itself with PCMU as early media, offers the agent PCMU only, and sends the same answer in the 200', async () => {
    const visitor = await openRtp();
    const { call, callId, store } = await placeCall(callerOffer(visitor.port), {
      codec: 'PCMU',
      early: true,
    });
    await call.start();
    const early = await caller.response(callId, 183);
    expect(formats(early.body)).toEqual([0, 101]);
    expect(call.caller.state).toBe('early');
    expect(call.caller.media?.kind).toBe('plain');

    const offer = await agent.request('INVITE');
    expect(formats(offer.body)).toEqual([0, 101]);
    agent.respond(gw.address, offer, 180); // no 180 for a caller who hears the gateway already
    const phone = await openRtp();
    agent.respond(gw.address, offer, 200, {
      sdp: plainSdp(phone.port, [
        [0, 'PCMU/8000'],
        [101, 'telephone-event/8000'],
      ]),
    });
    const ok = await caller.response(callId, 200);
    expect(ok.body.toString()).toBe(early.body.toString());
    caller.inDialog(gw.address, ok, 'ACK', 1);
    await expect.poll(() => call.state, { timeout: 10_000 }).toBe('answered');
    expect(caller.client.responses(180)).toEqual([]);

    // The agent's audio reaches the caller through the bridge.
    const gatewayPort = Number(audio(offer.body).split(' ')[1]);
    expect(await sendPcmu(phone, gatewayPort, () => visitor.received > 0)).toBe(true);

    call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'gateway_shutdown' });
    expect((await caller.request('BYE', callId)).headers.get('reason')).toBe(
      'SIP;cause=503;text="gateway_shutdown"',
    );
    expect((await store.get(call.id))?.attempts[0]?.endedAt).toEqual(expect.any(Number));
  });

  it('answers a browser itself with PCMU (200) before any agent, offers the agent PCMU only, and answers the browser’s ICE restart', async () => {
    const browser = new RTCPeerConnection({
      codecs: {
        audio: [
          new RTCRtpCodecParameters({
            mimeType: 'audio/opus',
            clockRate: 48000,
            channels: 2,
            payloadType: 111,
          }),
          new RTCRtpCodecParameters({
            mimeType: 'audio/PCMU',
            clockRate: 8000,
            channels: 1,
            payloadType: 0,
          }),
          new RTCRtpCodecParameters({
            mimeType: 'audio/telephone-event',
            clockRate: 8000,
            channels: 1,
            payloadType: 126,
          }),
        ],
        video: [],
      },
      iceServers: [{ urls: 'stun:127.0.0.1:9' }],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
    });
    cleanups.push(() => void browser.close());
    const heard: number[] = [];
    browser.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((p) => heard.push(p.header.payloadType)),
    );
    browser.addTransceiver('audio', { direction: 'sendrecv' });
    await browser.setLocalDescription(await browser.createOffer());
    await gathered(browser);

    const { call, callId } = await placeCall(browser.localDescription!.sdp, { codec: 'PCMU' });
    await call.start();
    const ok = await caller.response(callId, 200);
    expect(formats(ok.body)).toEqual([0, 126]);
    expect(call.caller.state).toBe('answered');
    expect(call.caller.media?.kind).toBe('webrtc');
    expect(call.state).not.toBe('answered'); // no agent yet
    await browser.setRemoteDescription({ type: 'answer', sdp: ok.body.toString() });

    const offer = await agent.request('INVITE');
    expect(formats(offer.body)).toEqual([0, 126]);
    const phone = await openRtp();
    agent.respond(gw.address, offer, 200, { sdp: plainSdp(phone.port, [[0, 'PCMU/8000']]) });
    await expect.poll(() => call.state, { timeout: 10_000 }).toBe('answered');
    // The browser was answered once: the agent's answer sent it no second 200 (the
    // first one may be retransmitted while its ACK is not sent: same answer, same SDP).
    expect(new Set(caller.client.responses(200).map((r) => r.body.toString())).size).toBe(1);

    // The agent's PCMU reaches the browser, unchanged.
    const gatewayPort = Number(audio(offer.body).split(' ')[1]);
    expect(await sendPcmu(phone, gatewayPort, () => heard.includes(0), 1000)).toBe(true);

    // The browser's network changed: its re-INVITE with new ICE credentials (an
    // ICE restart) is answered with the gateway's new ones, and audio flows again.
    await browser.setLocalDescription(await browser.createOffer({ iceRestart: true }));
    await gathered(browser);
    caller.inDialog(gw.address, ok, 'ACK', 1);
    caller.inDialog(gw.address, ok, 'INVITE', 2, { body: browser.localDescription!.sdp });
    const restarted = (await caller.client.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.cseq.seq === 2 && m.status >= 200,
      10_000,
    )) as SipResponse;
    expect(restarted.status).toBe(200);
    const ufrag = (sdp: Buffer) => /a=ice-ufrag:(\S+)/.exec(sdp.toString())?.[1];
    expect(ufrag(restarted.body)).toBeDefined();
    expect(ufrag(restarted.body)).not.toBe(ufrag(ok.body));
    expect(formats(restarted.body)).toEqual([0, 126]);
    await browser.setRemoteDescription({ type: 'answer', sdp: restarted.body.toString() });
    // werift as the browser has the gap WeriftTransport.renegotiate works around.
    const ice = browser.getTransceivers()[0]!.dtlsTransport.iceTransport;
    if (!ice.connection.nominated) void ice.start();
    heard.length = 0;
    expect(await sendPcmu(phone, gatewayPort, () => heard.includes(0), 1000)).toBe(true);
  }, 60_000);

  it('while no agent is joined, reports the caller’s INFO DTMF and answers its re-INVITE itself', async () => {
    const visitor = await openRtp();
    const { call, callId } = await placeCall(callerOffer(visitor.port), { codec: 'PCMA' });
    const digits: string[] = [];
    call.on('dtmf', (digit, leg) => digits.push(`${leg.name}:${digit}`));
    await call.setUpMedia();
    expect(await call.answerCaller({ codec: 'PCMA' })).toBe(true);
    const ok = await caller.response(callId, 200);
    expect(formats(ok.body)).toEqual([8, 101]);
    caller.inDialog(gw.address, ok, 'ACK', 1);

    caller.inDialog(gw.address, ok, 'INFO', 2, {
      body: 'Signal=7\r\nDuration=160\r\n',
      contentType: 'application/dtmf-relay',
    });
    await caller.response(callId, 200, 'INFO');
    expect(digits).toEqual(['caller:7']);

    const hold = callerOffer(visitor.port).replace('a=sendrecv', 'a=sendonly');
    caller.inDialog(gw.address, ok, 'INVITE', 3, { body: hold });
    const held = await caller.response(callId, 200, 'INVITE');
    expect(held.body.toString()).toMatch(/a=recvonly/);
    expect(formats(held.body)).toEqual([8, 101]);
  });

  it('rings agents only when asked, and goes on without them when told to', async () => {
    const visitor = await openRtp();
    const { call, callId } = await placeCall(callerOffer(visitor.port), { codec: 'PCMU' }, false);
    const exhausted: string[] = [];
    call.on('agentsExhausted', (reason) => exhausted.push(reason));
    await call.start();
    const ok = await caller.response(callId, 200);
    caller.inDialog(gw.address, ok, 'ACK', 1);
    expect(agent.client.received).toEqual([]); // no agent rang

    await call.ringAgents({ endOnNoAgent: false });
    const offer = await agent.request('INVITE');
    agent.respond(gw.address, offer, 486);
    await expect.poll(() => exhausted, { timeout: 10_000 }).toEqual(['agent_busy']);
    expect(call.state).not.toBe('ended');
    expect(call.caller.state).toBe('answered');
  });

  it('ends the call 488 offer_required when the caller did not offer the codec asked for', async () => {
    const { call, callId, store } = await placeCall(
      plainSdp((await openRtp()).port, [[8, 'PCMA/8000']]),
      {
        codec: 'PCMU',
      },
    );
    await call.start();
    const refused = await caller.response(callId, 488);
    expect(refused.headers.get('reason')).toBe('SIP;cause=488;text="offer_required"');
    expect(await store.get(call.id)).toMatchObject({
      state: 'ended',
      reason: 'offer_required',
      sipStatus: 488,
    });
  });
});

/** An RTP socket on 127.0.0.1 (a port the system gave): what it receives is counted. */
/** Once the werift browser's candidates are gathered. */
async function gathered(browser: RTCPeerConnection): Promise<void> {
  await new Promise<void>((resolve) => {
    if (browser.iceGatheringState === 'complete') resolve();
    browser.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
  });
}

async function openRtp() {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  cleanups.push(() => socket.close());
  const rtp = { port: socket.address().port, received: 0, socket };
  socket.on('message', () => (rtp.received += 1));
  return rtp;
}

/** Sends PCMU packets, 20 ms apart, from `from` to the gateway's `port` until `done()`. */
async function sendPcmu(
  from: { socket: ReturnType<typeof createSocket> },
  port: number,
  done: () => boolean,
  /** How many 20 ms packets at most: ICE and DTLS (again after a restart) take seconds on a loaded machine. */
  packets = 250,
) {
  for (let i = 0; i < packets && !done(); i += 1) {
    const packet = Buffer.alloc(12 + 160, 0xff);
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt16BE(i, 2);
    packet.writeUInt32BE(160 * i, 4);
    packet.writeUInt32BE(0x5678, 8);
    from.socket.send(packet, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20)); // RTP's own pace
  }
  return done();
}
