import { describe, expect, it } from 'vitest';
import { formatVia, isRfc3261Branch, parseVia } from './via.js';
import { SipParseError } from './sip-parse-error.js';

describe('parseVia', () => {
  it('reads every field', () => {
    expect(
      parseVia(
        'SIP/2.0/udp 192.0.2.1:5060;branch=z9hG4bK1;received=198.51.100.2;rport=3478;maddr=224.2.0.1;ttl=16;x',
      ),
    ).toEqual({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '192.0.2.1',
      port: 5060,
      branch: 'z9hG4bK1',
      received: '198.51.100.2',
      rport: 3478,
      maddr: '224.2.0.1',
      ttl: 16,
      params: [
        ['branch', 'z9hG4bK1'],
        ['received', '198.51.100.2'],
        ['rport', '3478'],
        ['maddr', '224.2.0.1'],
        ['ttl', '16'],
        ['x', null],
      ],
    });
  });

  it('takes LWS where RFC 3261 allows it, IPv6 hosts and received', () => {
    const via = parseVia(
      'SIP / 2.0 / WSS [2001:db8::1] : 443 ; branch = z9hG4bKx ; rport ; received=2001:db8::2',
    );
    expect(via).toMatchObject({
      transport: 'WSS',
      host: '[2001:db8::1]',
      port: 443,
      branch: 'z9hG4bKx',
      rport: true,
      received: '2001:db8::2',
    });
    expect(parseVia('SIP/2.0/TCP h.example.com').branch).toBeUndefined();
  });

  it('refuses malformed values', () => {
    for (const bad of [
      '',
      'SIP/2.0 host',
      'SIP/2.0/UDP',
      'SIP/2.0/UDPhost',
      'SIP/2.0/UDP host:',
      'SIP/2.0/UDP host:70000',
      'SIP/2.0/UDP host;;',
      'SIP/2.0/UDP host;branch',
      'SIP/2.0/UDP host;branch=a;branch=b',
      'SIP/2.0/UDP host;rport=x',
      'SIP/2.0/UDP host;ttl=256',
      'SIP/2.0/UDP host;received=a b',
      'SIP/2.0/UDP [::1',
    ]) {
      expect(() => parseVia(bad), bad).toThrow(SipParseError);
    }
  });
});

describe('formatVia', () => {
  it('writes a new Via and re-writes a parsed one with changed fields in place', () => {
    expect(
      formatVia({
        transport: 'udp',
        host: '192.0.2.1',
        port: 5060,
        branch: 'z9hG4bKa',
        rport: true,
      }),
    ).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport');
    const parsed = parseVia('SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKb');
    expect(formatVia({ ...parsed, received: '203.0.113.9', rport: 40000 })).toBe(
      'SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bKb;received=203.0.113.9',
    );
    expect(() => formatVia({ transport: 'UDP', host: 'bad host' })).toThrow(TypeError);
  });

  it('knows an RFC 3261 branch', () => {
    expect(isRfc3261Branch('z9hG4bK74bf9')).toBe(true);
    expect(isRfc3261Branch('z9hG4bK')).toBe(false);
    expect(isRfc3261Branch('1234')).toBe(false);
    expect(isRfc3261Branch(undefined)).toBe(false);
  });
});
