/**
 * The outbound leg (we are the UAC) against a raw SIP peer on 127.0.0.1: its
 * state machine and events, CANCEL with a Reason, failures as typed causes,
 * the ACK of every 2xx (again for a retransmission), the BYE of a 2xx that
 * came too late, and close() safe twice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isParleyError } from '@parley/shared/errors';
import { Dialog, SipRequest, generateCallId, parseNameAddr } from '../sip/index.js';
import { readLegSdp } from './sdp-bridge.js';
import type { LegEnd } from './leg.js';
import { OutboundLeg, type OutboundFailure, type OutboundLegState } from './outbound-leg.js';
import { SipPeer, openTestStack, plainSdp, silent, type TestStack } from './test-peers.js';

let gw: TestStack;
let peer: SipPeer;
const legs: OutboundLeg[] = [];

beforeAll(async () => {
  gw = await openTestStack();
});
afterAll(async () => {
  await gw?.close();
});
afterEach(() => {
  for (const leg of legs.splice(0)) leg.close();
  peer?.close();
});

const OFFER = plainSdp(30000, [
  [0, 'PCMU/8000'],
  [101, 'telephone-event/8000'],
]);

/** A leg to the peer, its states and its events as they come. */
async function dial(sdp = OFFER) {
  peer = await SipPeer.open();
  const invite = new SipRequest({
    method: 'INVITE',
    requestUri: peer.uri,
    headers: [
      ['From', '<sip:+15550100@parley.test>;tag=gw-1'],
      ['To', `<${peer.uri}>`],
      ['Call-ID', generateCallId()],
      ['CSeq', '1 INVITE'],
      ['Contact', `<sip:parley@${gw.address}>`],
      ['Content-Type', 'application/sdp'],
    ],
    body: sdp,
  });
  const leg = new OutboundLeg({
    stack: gw.stack,
    invite,
    target: { protocol: 'UDP', address: '127.0.0.1', port: peer.port },
    name: 'agent:test',
    logger: silent,
  });
  legs.push(leg);
  const seen = {
    states: [] as OutboundLegState[],
    progress: [] as { status: number; early: boolean }[],
    failed: [] as OutboundFailure[],
    ended: [] as LegEnd[],
    answered: 0,
  };
  leg.on('state', (s) => seen.states.push(s));
  leg.on('progress', (r, early) => seen.progress.push({ status: r.status, early: !!early }));
  leg.on('failed', (f) => seen.failed.push(f));
  leg.on('ended', (e) => seen.ended.push(e));
  leg.on('answered', () => (seen.answered += 1));
  leg.start();
  const received = await peer.request('INVITE', invite.callId);
  return { leg, seen, received };
}

/** Waits for what the leg reports (its events come with the peer's messages). */
const until = (check: () => boolean, what: string) =>
  expect.poll(check, { timeout: 10_000, message: what }).toBe(true);

/** A request from the peer within the dialog its 2xx made (it is the UAS: From/To swap). */
function fromPeer(invite: SipRequest, method: string, cseq: number): string {
  return [
    `${method} sip:parley@${gw.address} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-p-${method}-${Date.now()};rport`,
    `From: ${invite.headers.get('to')};tag=peer-tag`,
    `To: ${invite.headers.get('from')}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('OutboundLeg', () => {
  it('rings, passes early media, is answered and ACKed, and ends on the party’s BYE', async () => {
    const { leg, seen, received } = await dial();
    peer.respond(gw.address, received, 180);
    await until(() => leg.state === 'ringing', 'ringing');
    peer.respond(gw.address, received, 183, { sdp: plainSdp(31000, [[0, 'PCMU/8000']]) });
    await until(() => leg.state === 'early', 'early');
    peer.respond(gw.address, received, 200, { sdp: plainSdp(31000, [[0, 'PCMU/8000']]) });
    await until(() => leg.state === 'answered', 'answered');
    const ack = await peer.request('ACK', received.callId);
    expect(ack.cseq.seq).toBe(1);
    expect(leg.answerSdp?.endpoint.rtpPort).toBe(31000);
    expect(leg.dialog?.remoteTag).toBe('peer-tag');

    peer.send(gw.address, fromPeer(received, 'BYE', 1));
    await peer.response(received.callId, 200, 'BYE');
    expect(seen.states).toEqual(['ringing', 'early', 'answered', 'ended']);
    expect(seen.progress).toEqual([
      { status: 180, early: false },
      { status: 183, early: true },
    ]);
    expect(seen.answered).toBe(1);
    expect(seen.ended).toEqual([{ cause: 'bye', by: 'remote', reason: 'normal_clearing' }]);
  });

  it('reads a busy party as a typed failure', async () => {
    const { seen, received } = await dial();
    peer.respond(gw.address, received, 486);
    await until(() => seen.ended.length === 1, 'ended');
    expect(seen.failed).toEqual([{ status: 486, cause: 'busy' }]);
    expect(seen.ended[0]).toMatchObject({ cause: 'failed', by: 'remote', status: 486 });
    await peer.request('ACK', received.callId); // the transaction's ACK for a failure
  });

  it('cancels with a Reason; the 487 ends it as cancelled', async () => {
    const { leg, seen, received } = await dial();
    peer.respond(gw.address, received, 180);
    await until(() => leg.state === 'ringing', 'ringing');
    leg.cancel('agent_no_answer');
    expect(leg.state).toBe('cancelling');
    const cancel = await peer.request('CANCEL', received.callId);
    expect(cancel.headers.get('reason')).toBe('SIP;cause=487;text="agent_no_answer"');
    peer.respond(gw.address, cancel, 200);
    peer.respond(gw.address, received, 487);
    await until(() => leg.ended, 'ended');
    expect(seen.failed).toEqual([]);
    expect(seen.ended).toEqual([
      { cause: 'cancelled', by: 'local', reason: 'agent_no_answer', status: 487 },
    ]);
  });

  it('says a call answered elsewhere in the CANCEL (RFC 3326 cause 200)', async () => {
    const { leg, received } = await dial();
    peer.respond(gw.address, received, 180);
    await until(() => leg.state === 'ringing', 'ringing');
    leg.cancel('answered_elsewhere');
    const cancel = await peer.request('CANCEL', received.callId);
    expect(cancel.headers.get('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
  });

  it('ACKs and hangs up a 2xx that comes after its CANCEL', async () => {
    const { leg, seen, received } = await dial();
    peer.respond(gw.address, received, 180);
    await until(() => leg.state === 'ringing', 'ringing');
    leg.cancel('cancelled');
    await peer.request('CANCEL', received.callId);
    peer.respond(gw.address, received, 200, { sdp: plainSdp(31000, [[0, 'PCMU/8000']]) });
    await peer.request('ACK', received.callId);
    const bye = await peer.request('BYE', received.callId);
    expect(bye.headers.get('reason')).toBe('SIP;cause=200;text="cancelled"');
    expect(bye.headers.get('to')).toContain('tag=peer-tag');
    expect(seen.ended).toEqual([
      { cause: 'cancelled', by: 'local', reason: 'cancelled', status: 200 },
    ]);
    expect(seen.answered).toBe(0);
  });

  it('ACKs a retransmitted 2xx again (RFC 3261 §13.2.2.4)', async () => {
    const { leg, received } = await dial();
    const answer = plainSdp(31000, [[0, 'PCMU/8000']]);
    peer.respond(gw.address, received, 200, { sdp: answer });
    await peer.request('ACK', received.callId);
    peer.respond(gw.address, received, 200, { sdp: answer });
    const again = await peer.request('ACK', received.callId);
    expect(again.cseq.seq).toBe(1);
    expect(leg.state).toBe('answered');
  });

  it('hangs up a 2xx without an SDP answer, and fails it 488', async () => {
    const { seen, received } = await dial();
    peer.respond(gw.address, received, 200);
    await peer.request('ACK', received.callId);
    const bye = await peer.request('BYE', received.callId);
    expect(bye.headers.get('reason')).toBe('SIP;cause=488;text="offer_required"');
    await until(() => seen.ended.length === 1, 'ended');
    expect(seen.failed).toEqual([{ status: 488, cause: 'unreachable' }]);
  });

  it('adopts a dialog another module answered (a trunk’s dialer) and ends on the party’s BYE', async () => {
    peer = await SipPeer.open();
    const invite = new SipRequest({
      method: 'INVITE',
      requestUri: peer.uri,
      headers: [
        ['From', '<sip:+15550100@parley.test>;tag=gw-2'],
        ['To', `<${peer.uri}>`],
        ['Call-ID', generateCallId()],
        ['CSeq', '2 INVITE'],
        ['Contact', `<sip:parley@${gw.address}>`],
      ],
      body: OFFER,
    });
    const dialog = new Dialog({
      callId: invite.callId,
      localTag: 'gw-2',
      remoteTag: 'peer-tag',
      local: parseNameAddr('<sip:+15550100@parley.test>'),
      remote: parseNameAddr(`<${peer.uri}>`),
      localSeq: 2,
      remoteSeq: undefined,
      remoteTarget: peer.uri,
      routeSet: [],
      flow: undefined,
      localContact: `sip:parley@${gw.address}`,
    });
    const leg = OutboundLeg.adopt({
      stack: gw.stack,
      invite,
      target: { protocol: 'UDP', address: '127.0.0.1', port: peer.port },
      name: 'trunk:test',
      logger: silent,
      dialog,
      answer: readLegSdp(plainSdp(31000, [[0, 'PCMU/8000']]))!,
    });
    legs.push(leg);
    expect(leg.state).toBe('answered');
    expect(() => leg.start()).toThrow(/started twice/);
    const ended: LegEnd[] = [];
    leg.on('ended', (e) => ended.push(e));
    peer.send(gw.address, fromPeer(invite, 'BYE', 1));
    await peer.response(invite.callId, 200, 'BYE');
    expect(ended).toEqual([{ cause: 'bye', by: 'remote', reason: 'normal_clearing' }]);
  });

  it('hangs up an answered leg with a Reason; close() twice is safe; illegal moves throw', async () => {
    const { leg, seen, received } = await dial();
    const answer = plainSdp(31000, [[0, 'PCMU/8000']]);
    peer.respond(gw.address, received, 200, { sdp: answer });
    await until(() => leg.state === 'answered', 'answered');
    leg.cancel('too late'); // not in calling, ringing or early: nothing happens
    expect(leg.state).toBe('answered');
    leg.close('media_timeout');
    leg.close('media_timeout');
    const bye = await peer.request('BYE', received.callId);
    expect(bye.headers.get('reason')).toBe('SIP;cause=408;text="media_timeout"');
    expect(seen.ended).toEqual([{ cause: 'hung_up', by: 'local', reason: 'media_timeout' }]);
    expect(() => leg.start()).toThrow(/started twice/);
    const probe = leg as unknown as { transition(next: OutboundLegState): void };
    let error: unknown;
    try {
      probe.transition('ringing');
    } catch (thrown) {
      error = thrown;
    }
    expect(isParleyError(error) && error.message).toMatch(/ended → ringing is not allowed/);
  });
});
