import { describe, expect, it } from 'vitest';
import type { AgentContact, AgentPresence } from '../agents/index.js';
import { autoCodec, earlyAnswerPolicy } from './early-answer.js';
import type { InboundLeg } from './inbound-leg.js';
import { readLegSdp } from './sdp-bridge.js';

const agent = (...transports: AgentContact['transport'][]): AgentPresence =>
  ({
    contacts: transports.map((transport) => ({ uri: 'sip:a@127.0.0.1', expiresAt: 0, transport })),
  }) as unknown as AgentPresence;

const offer = (codecs: string) =>
  readLegSdp(
    Buffer.from(
      [
        'v=0',
        'o=- 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio 9 UDP/TLS/RTP/SAVPF ${codecs}`,
        'a=rtpmap:111 opus/48000/2',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:126 telephone-event/8000',
        'a=fingerprint:sha-256 AA:BB',
        'a=setup:actpass',
        'a=ice-ufrag:x',
        'a=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy',
        '',
      ].join('\r\n'),
    ),
  )!;

const caller = (codecs: string, webrtc = true) =>
  ({ webrtc, offer: offer(codecs) }) as unknown as InboundLeg;

describe('early answer', () => {
  it('auto: Opus only when every registered agent of the queue is a browser', () => {
    expect(autoCodec([agent('WSS'), agent('WS')])).toBe('opus');
    expect(autoCodec([agent('WSS'), agent('UDP')])).toBe('PCMU');
    expect(autoCodec([agent(undefined)])).toBe('PCMU');
    expect(autoCodec([])).toBe('PCMU');
  });

  it('answers a browser early with the chosen codec, as a 180 with SDP', () => {
    const policy = earlyAnswerPolicy('auto', () => [agent('UDP')])!;
    expect(policy(caller('111 0 126'), 'sales')).toEqual({
      codec: 'PCMU',
      early: true,
      ringing: true,
    });
    const browsers = earlyAnswerPolicy('auto', () => [agent('WSS')])!;
    expect(browsers(caller('111 0 126'), 'sales')?.codec).toBe('opus');
  });

  it('falls back to PCMU, or to no early answer, when the browser did not offer the codec', () => {
    const opus = earlyAnswerPolicy('opus', () => [])!;
    expect(opus(caller('0 126'), 'sales')?.codec).toBe('PCMU');
    const pcma = earlyAnswerPolicy('PCMA', () => [])!;
    expect(pcma(caller('111 126'), 'sales')).toBeUndefined();
  });

  it('leaves SIP callers, calls without a queue, and `off` alone', () => {
    expect(earlyAnswerPolicy('off', () => [])).toBeUndefined();
    const policy = earlyAnswerPolicy('PCMU', () => [])!;
    expect(policy(caller('111 0 126', false), 'sales')).toBeUndefined();
    expect(policy(caller('111 0 126'), undefined)).toBeUndefined();
  });
});
