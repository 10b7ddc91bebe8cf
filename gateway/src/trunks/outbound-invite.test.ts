import { describe, expect, it } from 'vitest';
import { buildTrunkInvite, nextInvite, type TrunkInviteInit } from './outbound-invite.js';

const base: TrunkInviteInit = {
  peer: { id: 'p', host: '192.0.2.10', port: 5080, transport: 'udp', priority: 1, weight: 1 },
  to: '+442079460000',
  callerNumber: '+14155550142',
  privacy: false,
  format: 'e164',
  fromDomain: 'gw.example',
  callId: 'c1',
  fromTag: 'f1',
  cseq: 1,
  contact: 'sip:parley@203.0.113.1:5060',
  maxForwards: 69,
  userAgent: 'Parley',
  sdp: 'v=0\r\n',
};

describe('buildTrunkInvite', () => {
  it('names the number at the peer and the caller ID in From and P-Asserted-Identity', () => {
    const invite = buildTrunkInvite({
      ...base,
      callerName: 'Acme',
      headers: [['X-Parley-Call', 'k']],
    });
    expect(invite.requestUri).toBe('sip:+442079460000@192.0.2.10:5080');
    expect(invite.headers.get('to')).toBe('<sip:+442079460000@192.0.2.10:5080>');
    expect(invite.headers.get('from')).toBe('"Acme" <sip:+14155550142@gw.example>;tag=f1');
    expect(invite.headers.get('p-asserted-identity')).toBe('"Acme" <sip:+14155550142@gw.example>');
    expect(invite.headers.has('privacy')).toBe(false);
    expect(invite.headers.get('max-forwards')).toBe('69');
    expect(invite.headers.get('x-parley-call')).toBe('k');
    expect(invite.contentType).toBe('application/sdp');
  });

  it("writes numbers in the trunk's format, at its domain, over TCP when the peer is", () => {
    const national = buildTrunkInvite({
      ...base,
      format: 'national',
      domain: 'carrier.example',
      peer: { ...base.peer, transport: 'tcp' },
    });
    expect(national.requestUri).toBe('sip:02079460000@carrier.example');
    expect(national.headers.get('from')).toBe('<sip:4155550142@gw.example>;tag=f1');
    const tcp = buildTrunkInvite({
      ...base,
      format: 'e164-digits',
      peer: { ...base.peer, transport: 'tcp' },
    });
    expect(tcp.requestUri).toBe('sip:442079460000@192.0.2.10:5080;transport=tcp');
  });

  it('hides the caller behind an anonymous From with Privacy: id, keeping the asserted identity', () => {
    const invite = buildTrunkInvite({ ...base, privacy: true });
    expect(invite.headers.get('from')).toBe('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=f1');
    expect(invite.headers.get('p-asserted-identity')).toBe('<sip:+14155550142@gw.example>');
    expect(invite.headers.get('privacy')).toBe('id');
  });
});

describe('nextInvite', () => {
  it('increments CSeq, keeps Call-ID, From and body, and drops the Via', () => {
    const first = buildTrunkInvite(base);
    first.headers.prepend('Via', 'SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKa');
    const second = nextInvite(first);
    expect(second.cseq.seq).toBe(2);
    expect(second.callId).toBe('c1');
    expect(second.headers.get('from')).toBe(first.headers.get('from'));
    expect(second.headers.has('via')).toBe(false);
    expect(second.body.toString()).toBe('v=0\r\n');
    expect(second.requestUri).toBe(first.requestUri);
  });
});
