/**
 * The inbound leg (we are the UAS) with a raw SIP caller on 127.0.0.1: ringing,
 * early media and the answer with one codec the gateway chose (the same SDP in
 * the 183 and the 200), refusals with a Reason from the error registry, the
 * caller's CANCEL and BYE, in-dialog requests, our BYE, and close() twice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaRouter } from '../media/index.js';
import type { ServerTransaction, SipRequest } from '../sip/index.js';
import { inviteText } from '../../test/raw-sip.js';
import { InboundLeg, type InboundLegState } from './inbound-leg.js';
import type { LegEnd } from './leg.js';
import { pickCodec } from './sdp-bridge.js';
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
let router: MediaRouter;
let caller: SipPeer;
const legs: InboundLeg[] = [];

beforeAll(async () => {
  gw = await openTestStack();
  media = await openTestEngine();
});
afterAll(async () => {
  await gw?.close();
  await media?.close();
});
afterEach(() => {
  for (const leg of legs.splice(0)) leg.close();
  router?.close();
  caller?.close();
});

const OFFER = plainSdp(32000, [
  [8, 'PCMA/8000'],
  [0, 'PCMU/8000'],
  [101, 'telephone-event/8000'],
]);

/** The caller's INVITE, and the leg the gateway makes of it (with its media transport). */
async function call(sdp = OFFER) {
  caller = await SipPeer.open();
  const arriving = gw.nextInvite();
  const callId = `inbound-${Date.now()}-${Math.random()}`;
  caller.send(
    gw.address,
    inviteText({ to: `sales@${gw.address}`, port: caller.port, callId, sdp }),
  );
  const { invite, tx } = await arriving;
  const leg = new InboundLeg({
    stack: gw.stack,
    invite,
    tx,
    flow: tx.flow,
    name: 'caller',
    logger: silent,
  });
  legs.push(leg);
  router = media.engine.createRouter({ callId, inactivityTimeoutMs: 0 });
  await leg.openMedia(router);
  const seen = { states: [] as InboundLegState[], ended: [] as LegEnd[] };
  leg.on('state', (s) => seen.states.push(s));
  leg.on('ended', (e) => seen.ended.push(e));
  return { leg, seen, callId };
}

const audioLine = (sdp: string) => /^m=audio .*$/m.exec(sdp)?.[0];

describe('InboundLeg', () => {
  it('rings, sends early media and answers with the one codec the gateway chose', async () => {
    const { leg, seen, callId } = await call();
    leg.ring();
    const ringing = await caller.response(callId, 180);
    const tag = ringing.to.tag;
    expect(tag).toBe(leg.localTag);

    const pcmu = pickCodec(leg.offer, 'PCMU');
    expect(pcmu?.codec.payloadType).toBe(0);
    expect(pcmu?.telephoneEvent?.payloadType).toBe(101);
    expect(await leg.prepareAnswer({ codec: pcmu! })).toBe(true);
    leg.earlyMedia();
    const early = await caller.response(callId, 183);
    const port = leg.media?.kind === 'webrtc' ? 0 : (leg.media?.rtpPort ?? 0);
    expect(audioLine(early.body.toString())).toBe(`m=audio ${port} RTP/AVP 0 101`);

    leg.answer();
    const ok = await caller.response(callId, 200);
    expect(ok.body.toString()).toBe(early.body.toString());
    expect(ok.to.tag).toBe(tag);
    expect(leg.codec?.codec.name).toBe('PCMU');
    expect(leg.dialog?.remoteTag).toBe(ringing.from.tag);

    caller.inDialog(gw.address, ok, 'ACK', 1);
    caller.inDialog(gw.address, ok, 'BYE', 2);
    await caller.response(callId, 200, 'BYE');
    expect(seen.states).toEqual(['ringing', 'early', 'answered', 'ended']);
    expect(seen.ended).toEqual([{ cause: 'bye', by: 'remote', reason: 'normal_clearing' }]);
  });

  it('refuses with the code’s SIP status and a Reason carrying the code', async () => {
    const { leg, seen, callId } = await call();
    expect(leg.refuse('agent_busy')).toBe(486);
    const busy = await caller.response(callId, 486);
    expect(busy.headers.get('reason')).toBe('SIP;cause=486;text="agent_busy"');
    expect(seen.ended).toEqual([
      { cause: 'refused', by: 'local', reason: 'agent_busy', status: 486 },
    ]);
    expect(leg.refuse('agent_busy')).toBeUndefined(); // once
    expect(leg.media?.closed).toBe(true);
  });

  it('answers the caller’s CANCEL with 487 and ends', async () => {
    const { leg, seen, callId } = await call();
    leg.ring();
    const ringing = await caller.response(callId, 180);
    caller.send(
      gw.address,
      [
        `CANCEL sip:sales@${gw.address} SIP/2.0`,
        `Via: ${leg.invite.headers.getLines('via')[0]}`,
        `From: ${ringing.headers.get('from')}`,
        `To: <sip:sales@${gw.address}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 CANCEL',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    await caller.response(callId, 487);
    expect(seen.ended).toEqual([
      { cause: 'cancel', by: 'remote', reason: 'cancelled', status: 487 },
    ]);
  });

  it('gives in-dialog requests to its listener (405 without one) and hangs up with a Reason', async () => {
    const { leg, seen, callId } = await call();
    await leg.prepareAnswer({ codec: pickCodec(leg.offer, 'PCMA')! });
    leg.answer();
    const ok = await caller.response(callId, 200);
    caller.inDialog(gw.address, ok, 'ACK', 1);

    caller.inDialog(gw.address, ok, 'INFO', 2, {
      body: 'Signal=5',
      contentType: 'application/dtmf-relay',
    });
    await caller.response(callId, 405, 'INFO');
    const requests: string[] = [];
    leg.on('request', (request: SipRequest, tx: ServerTransaction) => {
      requests.push(request.method);
      leg.respond(tx, 200);
    });
    caller.inDialog(gw.address, ok, 'INFO', 3, {
      body: 'Signal=6',
      contentType: 'application/dtmf-relay',
    });
    await caller.response(callId, 200, 'INFO');
    caller.inDialog(gw.address, ok, 'INFO', 3, {
      body: 'Signal=6',
      contentType: 'application/dtmf-relay',
    });
    await caller.response(callId, 500, 'INFO'); // CSeq not higher (RFC 3261 §12.2.2)
    expect(requests).toEqual(['INFO']);

    leg.hangUp('media_timeout');
    leg.close();
    leg.close();
    const bye = await caller.request('BYE', callId);
    expect(bye.headers.get('reason')).toBe('SIP;cause=408;text="media_timeout"');
    expect(seen.ended).toEqual([{ cause: 'hung_up', by: 'local', reason: 'media_timeout' }]);
  });

  it('refuses illegal moves: no answer before one is prepared, no state after ended', async () => {
    const { leg } = await call();
    expect(() => leg.answer()).toThrow(/prepareAnswer\(\) first/);
    leg.close('gateway_shutdown');
    const probe = leg as unknown as { transition(next: InboundLegState): void };
    expect(() => probe.transition('answered')).toThrow(/ended → answered is not allowed/);
    expect(leg.end).toMatchObject({ cause: 'refused', reason: 'gateway_shutdown', status: 503 });
  });

  it('ends with the flow it came over: a final response, or a BYE once answered', async () => {
    const { leg, seen, callId } = await call();
    leg.flowClosed();
    const gone = await caller.response(callId, 480);
    expect(gone.headers.get('reason')).toBe('SIP;cause=480;text="visitor_gone"');
    expect(seen.ended).toEqual([
      { cause: 'flow_closed', by: 'remote', reason: 'visitor_gone', status: 480 },
    ]);
  });
});
