import { describe, expect, it } from 'vitest';
import { SipHeaders } from './sip-headers.js';
import { canonicalName, headerKey } from './header-names.js';

describe('SipHeaders', () => {
  it('looks names up case-insensitively and through compact forms', () => {
    const h = new SipHeaders([
      ['v', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
      ['i', 'id'],
      ['M', '<sip:a@x>'],
      ['k', '100rel'],
      ['x', '1800'],
      ['u', 'dialog'],
      ['o', 'refer'],
      ['r', '<sip:c@x>'],
      ['b', '<sip:d@x>'],
      ['e', 'gzip'],
      ['s', 'hello'],
      ['c', 'application/sdp'],
      ['l', '0'],
    ]);
    expect(h.get('VIA')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(h.get('call-id')).toBe('id');
    expect(h.get('Contact')).toBe('<sip:a@x>');
    for (const [compact, full] of Object.entries({
      k: 'supported',
      x: 'session-expires',
      u: 'allow-events',
      o: 'event',
      r: 'refer-to',
      b: 'referred-by',
      e: 'content-encoding',
      s: 'subject',
      c: 'content-type',
      l: 'content-length',
    })) {
      expect(headerKey(compact)).toBe(full);
      expect(h.has(full)).toBe(true);
    }
  });

  it('splits list headers around quotes and <...>, one element per value', () => {
    const h = new SipHeaders([
      ['Contact', '"Doe, John" <sip:j@x;a=1,2>;q=0.5, <sip:k@x>'],
      ['Contact', 'sip:l@x'],
      ['Allow', 'INVITE,ACK , BYE'],
      ['Supported', ''],
    ]);
    expect(h.getAll('contact')).toEqual([
      '"Doe, John" <sip:j@x;a=1,2>;q=0.5',
      '<sip:k@x>',
      'sip:l@x',
    ]);
    expect(h.get('contact')).toBe('"Doe, John" <sip:j@x;a=1,2>;q=0.5');
    expect(h.getAll('allow')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(h.getAll('supported')).toEqual([]);
    expect(h.getLines('contact')).toHaveLength(2);
  });

  it('never splits headers whose single value contains commas', () => {
    const challenge = 'Digest realm="a, b", nonce="n", qop="auth,auth-int", algorithm=MD5';
    const h = new SipHeaders([
      ['WWW-Authenticate', challenge],
      ['Authorization', 'Digest username="u", response="r"'],
      ['Proxy-Authenticate', challenge],
      ['Proxy-Authorization', 'Digest username="u", response="r"'],
      ['Date', 'Sat, 13 Nov 2010 23:29:00 GMT'],
      ['X-Unknown', 'a, b, c'],
    ]);
    expect(h.getAll('www-authenticate')).toEqual([challenge]);
    expect(h.getAll('authorization')).toHaveLength(1);
    expect(h.getAll('proxy-authenticate')).toHaveLength(1);
    expect(h.getAll('proxy-authorization')).toHaveLength(1);
    expect(h.get('date')).toBe('Sat, 13 Nov 2010 23:29:00 GMT');
    expect(h.getAll('x-unknown')).toEqual(['a, b, c']);
  });

  it('sets, appends, prepends, deletes and iterates in order', () => {
    const h = new SipHeaders({ 'call-id': 'x', Route: ['<sip:r1>', '<sip:r2>'], 'X-A': '1' });
    h.prepend('Route', '<sip:r0>');
    h.prepend('Via', 'SIP/2.0/UDP top;branch=z9hG4bK1');
    h.append('x-b', '2');
    h.set('X-A', ['3', '4']);
    expect([...h]).toEqual([
      ['Via', 'SIP/2.0/UDP top;branch=z9hG4bK1'],
      ['Call-ID', 'x'],
      ['Route', '<sip:r0>'],
      ['Route', '<sip:r1>'],
      ['Route', '<sip:r2>'],
      ['X-A', '3'],
      ['X-A', '4'],
      ['x-b', '2'],
    ]);
    expect(h.shift('route')).toBe('<sip:r0>');
    expect(h.delete('route')).toBe(2);
    expect(h.has('route')).toBe(false);
    expect(h.count('x-a')).toBe(2);
    expect(h.size).toBe(5);
  });

  it('shifts the first element of a comma-separated line', () => {
    const h = new SipHeaders([['Route', '<sip:a;lr>, <sip:b;lr>']]);
    expect(h.shift('route')).toBe('<sip:a;lr>');
    expect(h.getLines('route')).toEqual(['<sip:b;lr>']);
  });

  it('writes the full canonical name for a header it creates', () => {
    const h = new SipHeaders();
    h.append('m', '<sip:a@x>');
    h.set('i', 'id');
    h.append('cseq', '1 INVITE');
    h.append('www-authenticate', 'Digest realm="x"');
    h.append('max-forwards', '70');
    h.append('X-Parley-Session', 's');
    expect([...h].map(([n]) => n)).toEqual([
      'Contact',
      'Call-ID',
      'CSeq',
      'WWW-Authenticate',
      'Max-Forwards',
      'X-Parley-Session',
    ]);
    expect(canonicalName('l')).toBe('Content-Length');
  });

  it('refuses header injection and bad names', () => {
    const h = new SipHeaders();
    expect(() => h.append('X-A', 'a\r\nInjected: b')).toThrow(TypeError);
    expect(() => h.set('X-A', 'a\nb')).toThrow(TypeError);
    expect(() => h.append('Bad Name', 'x')).toThrow(TypeError);
    expect(() => h.append('', 'x')).toThrow(TypeError);
  });

  it('trims values and clones independently', () => {
    const h = new SipHeaders([['Subject', '  hi \t']]);
    expect(h.get('subject')).toBe('hi');
    const copy = h.clone();
    copy.set('subject', 'bye');
    expect(h.get('subject')).toBe('hi');
  });
});
