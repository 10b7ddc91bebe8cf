import { describe, expect, it } from 'vitest';
import { formatUri, parseUri, unescapeUri, type SipUri } from './uri.js';
import { SipParseError } from './sip-parse-error.js';

describe('parseUri', () => {
  it('parses every part of a SIP URI', () => {
    expect(
      parseUri(
        'sips:alice:secret@Example.COM:5061;transport=tls;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent',
      ),
    ).toEqual({
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'Example.COM',
      port: 5061,
      params: [
        ['transport', 'tls'],
        ['lr', null],
        ['maddr', '239.255.255.1'],
      ],
      headers: [
        ['subject', 'project x'],
        ['priority', 'urgent'],
      ],
    });
  });

  it('parses hosts without user, IPv4 and IPv6 with port', () => {
    expect(parseUri('sip:example.com')).toMatchObject({
      user: undefined,
      host: 'example.com',
      port: undefined,
    });
    expect(parseUri('sip:192.0.2.4:5060')).toMatchObject({ host: '192.0.2.4', port: 5060 });
    expect(parseUri('SIP:bob@[2001:db8::9:1]:5070;transport=tcp')).toMatchObject({
      scheme: 'sip',
      host: '[2001:db8::9:1]',
      port: 5070,
    });
    expect(parseUri('sip:[::ffff:192.0.2.1]')).toMatchObject({ host: '[::ffff:192.0.2.1]' });
  });

  it('unescapes once and keeps user-unreserved characters', () => {
    expect((parseUri('sip:%61lice%40home@example.com') as SipUri).user).toBe('alice@home');
    expect(
      (parseUri('sip:+1-212-555-1212;phone-context=x@gw.example.com;user=phone') as SipUri).user,
    ).toBe('+1-212-555-1212;phone-context=x');
    expect((parseUri('sip:h;a=b%2541') as SipUri).params).toEqual([['a', 'b%41']]);
    expect(unescapeUri('%E2%82%AC%00')).toBe('€\x00');
    expect(unescapeUri('%FF')).toBe('\xff');
  });

  it('parses tel URIs and keeps other schemes opaque', () => {
    expect(parseUri('tel:+1-201-555-0123;ext=1234')).toEqual({
      scheme: 'tel',
      number: '+1-201-555-0123',
      params: [['ext', '1234']],
    });
    expect(parseUri('tel:7042;phone-context=example.com')).toMatchObject({ number: '7042' });
    expect(parseUri('urn:service:sos')).toEqual({ scheme: 'urn', opaque: 'service:sos' });
  });

  it('refuses what is not a URI', () => {
    for (const bad of [
      '',
      'sip',
      ':x',
      '1sip:x',
      'sip:',
      'sip:@example.com',
      'sip:a@',
      'sip:a b@example.com',
      'sip:a@example.com:',
      'sip:a@example.com:99999',
      'sip:a@example.com:123456',
      'sip:a@[notv6]',
      'sip:a@[::1',
      'sip:a@example.com;',
      'sip:a@example.com;p=',
      'sip:a@example.com?h',
      'sip:a@exa mple.com',
      'sip:%zz@example.com',
      'sip:a%4@example.com',
      'sip:a@example.com>',
      'tel:',
      'tel:12a;;',
      'http:',
      'http:a b',
    ]) {
      expect(() => parseUri(bad), bad).toThrow(SipParseError);
    }
  });
});

describe('formatUri', () => {
  it('round-trips and escapes what needs escaping', () => {
    for (const text of [
      'sip:alice@example.com',
      'sips:alice:secret@example.com:5061;transport=tls;lr?subject=x&h=',
      'sip:bob@[2001:db8::1]:5060',
      'tel:+1-201-555-0123;ext=1',
      'urn:service:sos',
    ]) {
      expect(formatUri(parseUri(text))).toBe(text);
    }
    expect(formatUri({ scheme: 'sip', user: 'I have spaces', host: 'example.net' })).toBe(
      'sip:I%20have%20spaces@example.net',
    );
    expect(formatUri({ scheme: 'sip', user: 'user;par=u@example.net', host: 'example.com' })).toBe(
      'sip:user;par=u%40example.net@example.com',
    );
    expect(
      formatUri({
        scheme: 'sip',
        host: 'h',
        params: [['name', 'value%41']],
        headers: [['Route', '<sip:x>']],
      }),
    ).toBe('sip:h;name=value%2541?Route=%3Csip:x%3E');
    expect(formatUri({ scheme: 'sip', user: 'jürgen', host: 'h' })).toBe('sip:j%C3%BCrgen@h');
  });

  it('refuses to write an invalid URI', () => {
    expect(() => formatUri({ scheme: 'sip', host: 'bad host' })).toThrow(TypeError);
    expect(() => formatUri({ scheme: 'sip', host: 'h', port: 70000 })).toThrow(TypeError);
    expect(() => formatUri({ scheme: 'tel', number: '' })).toThrow(TypeError);
    expect(() => formatUri({ scheme: 'http', opaque: 'a b' })).toThrow(TypeError);
  });
});
