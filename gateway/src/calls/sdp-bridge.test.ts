import { describe, expect, it } from 'vitest';
import { formatSdp, type PlainRtpTransport } from '../media/index.js';
import {
  agentOfferFromBrowser,
  chosenCodec,
  isWebRtcOffer,
  localAnswer,
  offerDirection,
  plainAnswer,
  readLegSdp,
} from './sdp-bridge.js';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** What Chrome offers: Opus, then G.711, telephone-event at two rates, over DTLS-SRTP with ICE. */
const CHROME = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901',
  'a=fingerprint:sha-256 AA:BB',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=sctp-port:5000',
]);

/** A desk phone's plain offer or answer. */
const phone = (formats: string, extra: string[] = [], address = '192.0.2.10') =>
  crlf([
    'v=0',
    `o=phone 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio 30000 RTP/AVP ${formats}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:101 telephone-event/8000',
    'a=rtpmap:102 telephone-event/48000',
    ...extra,
  ]);

const via = {
  localAddress: '198.51.100.5',
  rtpPort: 40000,
  rtcpPort: 40001,
} as unknown as PlainRtpTransport;

const leg = (text: string) => {
  const parsed = readLegSdp(text);
  if (!parsed) throw new Error('no audio');
  return parsed;
};

describe('agentOfferFromBrowser', () => {
  it("offers the agent the browser's bridgeable codecs in its order and numbers, plain RTP, no ICE or DTLS", () => {
    const browser = leg(CHROME);
    expect(isWebRtcOffer(browser)).toBe(true);
    const text = formatSdp(agentOfferFromBrowser(browser, via, '42', 1));
    expect(text).toContain('m=audio 40000 RTP/AVP 111 0 8 110 126\r\n');
    expect(text).toContain('c=IN IP4 198.51.100.5');
    expect(text).toContain('a=rtpmap:111 opus/48000/2');
    expect(text).toContain('a=fmtp:111 minptime=10;useinbandfec=1');
    expect(text).toContain('a=fmtp:126 0-16');
    // Nothing the gateway cannot pass through untouched, nothing of the browser's transport.
    expect(text).not.toMatch(/G722|red\/|CN\/|ice-|fingerprint|setup:|BUNDLE|webrtc-datachannel/);
    expect(isWebRtcOffer(leg(text))).toBe(false);
  });
});

describe('chosenCodec', () => {
  it("takes the agent's first bridgeable codec and the telephone-event of its clock rate", () => {
    expect(chosenCodec(leg(phone('8 0 101 102')))).toEqual({
      codec: { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8, fmtp: undefined },
      telephoneEvent: {
        name: 'telephone-event',
        clockRate: 8000,
        channels: 1,
        payloadType: 101,
        fmtp: undefined,
      },
    });
    expect(chosenCodec(leg(phone('111 102')))?.telephoneEvent?.payloadType).toBe(102);
    expect(chosenCodec(leg(phone('111')))?.telephoneEvent).toBeUndefined();
  });

  it('finds none in an answer without Opus, PCMU or PCMA', () => {
    const g722 = crlf([
      'v=0',
      'o=phone 1 1 IN IP4 192.0.2.10',
      's=-',
      'c=IN IP4 192.0.2.10',
      't=0 0',
      'm=audio 30000 RTP/AVP 9',
      'a=rtpmap:9 G722/8000',
    ]);
    expect(chosenCodec(leg(g722))).toBeUndefined();
  });
});

describe('plainAnswer', () => {
  it("answers a SIP visitor with the agent's codec at the visitor's payload type, telephone-event, the mirrored direction", () => {
    const visitor = leg(phone('0 8 101', ['a=sendonly']));
    const text = formatSdp(
      plainAnswer(
        visitor,
        { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
        via,
        '7',
      ),
    );
    expect(text).toContain('m=audio 40000 RTP/AVP 8 101\r\n');
    expect(text).toContain('a=rtpmap:101 telephone-event/8000');
    expect(text).toContain('a=recvonly');
    expect(text).toContain('c=IN IP4 198.51.100.5');
  });
});

describe('hold on a leg the gateway answers itself', () => {
  it('reads sendonly, inactive and the old c=0.0.0.0 as hold, and mirrors the direction', () => {
    expect(offerDirection(leg(phone('0', ['a=sendonly'])))).toBe('sendonly');
    expect(offerDirection(leg(phone('0', ['a=inactive'])))).toBe('inactive');
    expect(offerDirection(leg(phone('0', [], '0.0.0.0')))).toBe('inactive');
    expect(offerDirection(leg(phone('0')))).toBe('sendrecv');
    const held = formatSdp(localAnswer(leg(phone('0', ['a=sendonly'])), via, undefined));
    expect(held).toContain('a=recvonly');
    expect(held).not.toContain('192.0.2.10');
  });
});
