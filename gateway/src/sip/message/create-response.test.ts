import { describe, expect, it } from 'vitest';
import { createResponse, reasonPhrase } from './create-response.js';
import { generateBranch, generateCallId, generateTag } from './ids.js';
import { isToken } from './lexer.js';
import { parseMessage } from './parse-message.js';
import { serialize } from './serialize.js';
import type { SipRequest } from './sip-message.js';

const REQUEST =
  'INVITE sip:bob@biloxi.example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2d4790.1;received=192.0.2.3\r\n' +
  'v: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP h;branch=z9hG4bKx\r\n' +
  'Max-Forwards: 69\r\n' +
  'To: Bob <sip:bob@biloxi.example.com>\r\n' +
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n' +
  'Call-ID: a84b4c76e66710@pc33.example.com\r\n' +
  'CSeq: 314159 INVITE\r\n' +
  'Timestamp: 54\r\n' +
  'Contact: <sip:alice@pc33.example.com>\r\n' +
  'Content-Length: 0\r\n\r\n';

function request(): SipRequest {
  const m = parseMessage(REQUEST);
  if (m.type !== 'request') throw new Error('request expected');
  return m;
}

describe('createResponse', () => {
  it('copies Via, From, To, Call-ID and CSeq as they came (RFC 3261 §8.2.6)', () => {
    const r = createResponse(request(), 180);
    expect(r.reason).toBe('Ringing');
    expect([...r.headers]).toEqual([
      ['Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2d4790.1;received=192.0.2.3'],
      [
        'Via',
        'SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP h;branch=z9hG4bKx',
      ],
      ['From', 'Alice <sip:alice@atlanta.example.com>;tag=1928301774'],
      ['To', 'Bob <sip:bob@biloxi.example.com>'],
      ['Call-ID', 'a84b4c76e66710@pc33.example.com'],
      ['CSeq', '314159 INVITE'],
      ['Content-Length', '0'],
    ]);
    expect(r.vias).toHaveLength(3);
    expect(parseMessage(serialize(r)).to.tag).toBeUndefined();
  });

  it('adds a To tag only when asked, and never a second one', () => {
    expect(createResponse(request(), 200, 'OK', { toTag: 'as83kd9bs' }).to.tag).toBe('as83kd9bs');
    const generated = createResponse(request(), 200, undefined, { toTag: true }).to.tag;
    expect(generated !== undefined && isToken(generated)).toBe(true);
    const tagged = request();
    tagged.headers.set('To', 'Bob <sip:bob@biloxi.example.com>;tag=existing');
    expect(createResponse(tagged, 200, undefined, { toTag: true }).to.tag).toBe('existing');
  });

  it('copies Timestamp into a 100 only, and takes extra headers and a body', () => {
    expect(createResponse(request(), 100).headers.get('timestamp')).toBe('54');
    expect(createResponse(request(), 180).headers.has('timestamp')).toBe(false);
    const busy = createResponse(request(), 486, undefined, {
      'Retry-After': '30',
      Warning: '399 gw "queue full"',
    });
    expect(busy.headers.get('retry-after')).toBe('30');
    expect(busy.reason).toBe('Busy Here');
    const ok = createResponse(request(), 200, undefined, {
      toTag: true,
      headers: [['Content-Type', 'application/sdp']],
      body: 'v=0\r\n',
    });
    expect(ok.headers.get('content-length')).toBe('5');
    expect(parseMessage(serialize(ok)).body.toString()).toBe('v=0\r\n');
  });

  it('copies Record-Route, in order and verbatim, into responses that establish a dialog (RFC 3261 §12.1.1)', () => {
    const routed = parseMessage(
      REQUEST.replace(
        'Max-Forwards: 69\r\n',
        'Max-Forwards: 69\r\n' +
          'Record-Route: <sip:p2.example.com;lr;ftag=1928301774>, <sip:p1.example.com;lr>\r\n' +
          'Record-Route: <sip:edge.example.com;transport=tcp;lr>;x-unknown=1\r\n',
      ),
    ) as SipRequest;
    const expected = [
      '<sip:p2.example.com;lr;ftag=1928301774>, <sip:p1.example.com;lr>',
      '<sip:edge.example.com;transport=tcp;lr>;x-unknown=1',
    ];
    for (const status of [180, 183, 200]) {
      const r = createResponse(routed, status, undefined, { toTag: 'as83kd9bs' });
      expect(r.headers.getLines('record-route')).toEqual(expected);
      // What the UAC builds its route set from (§12.1.2): every value, in order.
      expect(parseMessage(serialize(r)).headers.getAll('record-route')).toEqual([
        '<sip:p2.example.com;lr;ftag=1928301774>',
        '<sip:p1.example.com;lr>',
        '<sip:edge.example.com;transport=tcp;lr>;x-unknown=1',
      ]);
    }
    // No dialog: a 100 (hop by hop), a failure, a non-dialog method, an in-dialog request.
    expect(createResponse(routed, 100).headers.has('record-route')).toBe(false);
    expect(
      createResponse(routed, 486, undefined, { toTag: true }).headers.has('record-route'),
    ).toBe(false);
    const options = parseMessage(
      serialize(routed)
        .toString()
        .replace('INVITE sip:', 'OPTIONS sip:')
        .replace(' INVITE\r\n', ' OPTIONS\r\n'),
    ) as SipRequest;
    expect(options.method).toBe('OPTIONS');
    expect(
      createResponse(options, 200, undefined, { toTag: true }).headers.has('record-route'),
    ).toBe(false);
    routed.headers.set('To', 'Bob <sip:bob@biloxi.example.com>;tag=dialog');
    expect(createResponse(routed, 200).headers.has('record-route')).toBe(false);
  });

  it('has a reason phrase for every class', () => {
    expect(reasonPhrase(404)).toBe('Not Found');
    expect(reasonPhrase(499)).toBe('Client Error');
    expect(() => createResponse(request(), 99)).toThrow(RangeError);
  });
});

describe('identifiers', () => {
  it('makes RFC 3261 branches, tags and Call-IDs of token characters, all different', () => {
    const branches = new Set(Array.from({ length: 1000 }, generateBranch));
    expect(branches.size).toBe(1000);
    for (const b of branches)
      expect(b.startsWith('z9hG4bK') && isToken(b) && b.length > 20).toBe(true);
    expect(isToken(generateTag())).toBe(true);
    expect(generateTag()).not.toBe(generateTag());
    expect(generateCallId('gw.example.com')).toMatch(/^[A-Za-z0-9_-]{22}@gw\.example\.com$/);
  });
});
