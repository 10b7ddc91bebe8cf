/**
 * A call from the test to a real SIP peer (baresip, sipp) whose media ends on
 * a relay transport of ours: INVITE with our SDP (one G.711 codec and
 * telephone-event), 200, ACK; then BYE. What media applications need from a
 * call (the transport aimed at the peer, the codec it answered) without the
 * gateway's call layer.
 */
import type { AudioCodec } from '../src/media/engine.js';
import { mediaEndpoint, parseSdp } from '../src/media/sdp/index.js';
import type { RelayTransport } from '../src/media/relay-transport.js';
import type { SipResponse } from '../src/sip/message/index.js';
import type { RawSipClient } from './raw-sip.js';
import { inviteText } from './raw-sip.js';

export interface PeerCall {
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
  bye(): Promise<void>;
}

const PAYLOAD: Record<'PCMU' | 'PCMA', number> = { PCMU: 0, PCMA: 8 };

export async function callPeer(
  client: RawSipClient,
  target: string,
  user: string,
  transport: RelayTransport,
  codecName: 'PCMU' | 'PCMA',
): Promise<PeerCall> {
  const pt = PAYLOAD[codecName];
  const sdp = [
    'v=0',
    `o=parley 1 1 IN IP4 ${transport.localAddress}`,
    's=parley',
    `c=IN IP4 ${transport.localAddress}`,
    't=0 0',
    `m=audio ${transport.rtpPort} RTP/AVP ${pt} 101`,
    `a=rtpmap:${pt} ${codecName}/8000`,
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
  const callId = `media-apps-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  client.send(target, inviteText({ to: `${user}@${target}`, port: client.port, callId, sdp }));
  const ok = (await client.waitFor(
    (m) => m.type === 'response' && m.callId === callId && m.status >= 200,
    15_000,
  )) as SipResponse;
  if (ok.status !== 200) throw new Error(`the peer answered ${ok.status}`);
  const contact = /<([^>]+)>/.exec(ok.headers.get('contact') ?? '')?.[1] ?? `sip:${target}`;
  const inDialog = (method: 'ACK' | 'BYE', cseq: number) =>
    [
      `${method} ${contact} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-${method}-${cseq}-${Date.now()};rport`,
      `From: ${ok.headers.get('from')}`,
      `To: ${ok.headers.get('to')}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  client.send(target, inDialog('ACK', 1));
  const answer = mediaEndpoint(parseSdp(ok.body.toString('utf8')), 0);
  if (!answer) throw new Error('the peer answered without audio');
  transport.setRemote({
    address: answer.address,
    rtpPort: answer.rtpPort,
    rtcpPort: answer.rtcpPort,
  });
  const first = answer.codecs.find((c) => c.name.toUpperCase() === codecName);
  if (!first) throw new Error(`the peer did not answer ${codecName}`);
  const te = answer.codecs.find((c) => c.name.toLowerCase() === 'telephone-event');
  const toCodec = (c: typeof first): AudioCodec => ({
    name: c.name,
    clockRate: c.clockRate,
    channels: c.channels,
    payloadType: c.pt,
  });
  return {
    codec: toCodec(first),
    telephoneEvent: te ? toCodec(te) : undefined,
    async bye() {
      client.send(target, inDialog('BYE', 2));
      await client.waitFor(
        (m) => m.type === 'response' && m.callId === callId && m.cseq.method === 'BYE',
        5000,
      );
    },
  };
}
