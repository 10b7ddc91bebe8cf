import { describe, expect, it } from 'vitest';
import { INVITE, REGISTER } from './fixtures/fixtures.js';
import { parseMessage, readOversized } from './parse-message.js';
import { SipParseError } from './sip-parse-error.js';
import { isSipUri } from './uri.js';

function refusal(
  data: Buffer | string,
  options?: Parameters<typeof parseMessage>[1],
): SipParseError {
  try {
    parseMessage(data, options);
  } catch (error) {
    if (error instanceof SipParseError) return error;
    throw error;
  }
  throw new Error('expected a SipParseError');
}

const OPTIONS = (extra = '', body = '') =>
  'OPTIONS sip:bob@example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n' +
  'To: <sip:bob@example.com>\r\n' +
  'From: <sip:alice@example.com>;tag=1928301774\r\n' +
  'Call-ID: a84b4c76e66710\r\n' +
  'CSeq: 63104 OPTIONS\r\n' +
  'Max-Forwards: 70\r\n' +
  extra +
  '\r\n' +
  body;

describe('parseMessage', () => {
  it('parses a typical INVITE with SDP', () => {
    const m = parseMessage(Buffer.from(INVITE));
    if (m.type !== 'request') throw new Error('request expected');
    expect(m.method).toBe('INVITE');
    expect(m.requestUri).toBe('sip:agent@pbx.example.com');
    expect(m.callId).toBe('a84b4c76e66710@gw.example.com');
    expect(m.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.from.tag).toBe('1928301774');
    expect(m.from.displayName).toBe('Visitor');
    expect(m.to.tag).toBeUndefined();
    expect(m.via).toMatchObject({
      transport: 'UDP',
      host: '192.0.2.10',
      port: 5060,
      branch: 'z9hG4bK776asdhds',
      rport: true,
    });
    expect(m.maxForwards).toBe(70);
    expect(m.contentLength).toBe(205);
    expect(m.body.toString()).toMatch(/^v=0\r\n/);
    expect(m.headers.getAll('allow')).toHaveLength(8);
    expect(m.warnings).toEqual([]);
    const uri = m.uri;
    expect(isSipUri(uri) && uri.user).toBe('agent');
  });

  it('parses a REGISTER and accepts a string', () => {
    const m = parseMessage(REGISTER);
    expect(m.type).toBe('request');
    expect(m.contact?.params).toContainEqual(['expires', '3600']);
    expect(m.via.transport).toBe('TCP');
  });

  it('takes compact names, any case, spaces around the colon and folded lines', () => {
    const m = parseMessage(
      'INVITE sip:b@example.com SIP/2.0\r\n' +
        'v : SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n' +
        'VIA:SIP/2.0/TCP b.example.com;branch=z9hG4bK2,\r\n' +
        '\t SIP/2.0/TLS c.example.com;branch=z9hG4bK3\r\n' +
        't:<sip:b@example.com>\r\n' +
        'F:   <sip:a@example.com>;tag=x\r\n' +
        'i: abc\r\n' +
        'CSEQ: 1\r\n  INVITE\r\n' +
        'max-FORWARDS: 10\r\n' +
        'l: 0\r\n\r\n',
    );
    expect(m.vias.map((v) => v.host)).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
    expect(m.headers.get('Call-ID')).toBe('abc');
    expect(m.headers.get('cseq')).toBe('1 INVITE');
    expect(m.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(m.headers.lines().map((l) => l.name)).toEqual([
      'v',
      'VIA',
      't',
      'F',
      'i',
      'CSEQ',
      'max-FORWARDS',
      'l',
    ]);
  });

  it('skips CRLFs before the start line (RFC 3261 §7.5)', () => {
    expect(parseMessage(`\r\n\r\n${OPTIONS()}`).type).toBe('request');
  });

  it('parses responses, with or without a reason phrase', () => {
    const head =
      'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nTo: <sip:b@x>;tag=2\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n';
    const ok = parseMessage(`SIP/2.0 180 Ringing Now\r\n${head}`);
    expect(ok).toMatchObject({ type: 'response', status: 180, reason: 'Ringing Now' });
    expect(parseMessage(`sip/2.0 200\r\n${head}`)).toMatchObject({ status: 200, reason: '' });
    expect(refusal(`SIP/2.0 2000 OK\r\n${head}`).reason).toMatch(/Status-Code/);
    expect(refusal(`SIP/2.0 099 Low\r\n${head}`).reason).toMatch(/Status-Code/);
    expect(refusal(`SIP/2.0 200 OK\r\n${head.replace(/^Via.*\r\n/, '')}`).reason).toBe(
      'missing Via',
    );
  });

  it('reports a missing Max-Forwards and accepts the request', () => {
    const m = parseMessage(OPTIONS().replace('Max-Forwards: 70\r\n', ''));
    expect(m.maxForwards).toBeUndefined();
    expect(m.warnings).toEqual(['no Max-Forwards']);
  });

  it('refuses a request without a mandatory header, or with two of a single one', () => {
    for (const name of ['Via', 'To', 'From', 'Call-ID', 'CSeq']) {
      const text = OPTIONS().replace(new RegExp(`^${name}:.*\\r\\n`, 'm'), '');
      expect(refusal(text).reason).toBe(`missing ${name}`);
    }
    expect(refusal(OPTIONS('To: <sip:c@example.com>\r\n')).reason).toBe('more than one To');
    expect(refusal(OPTIONS('Call-ID: other\r\n')).reason).toBe('more than one Call-ID');
    expect(refusal(OPTIONS('Max-Forwards: 69\r\n')).reason).toBe('more than one Max-Forwards');
  });

  it('checks CSeq: the method matches the request, the number is below 2**31', () => {
    expect(refusal(OPTIONS().replace('63104 OPTIONS', '63104 INVITE')).reason).toMatch(
      /does not match/,
    );
    expect(refusal(OPTIONS().replace('63104 OPTIONS', '2147483648 OPTIONS')).reason).toMatch(
      /2\*\*31/,
    );
    expect(parseMessage(OPTIONS().replace('63104 OPTIONS', '2147483647 OPTIONS')).cseq.seq).toBe(
      2147483647,
    );
    expect(refusal(OPTIONS().replace('63104 OPTIONS', 'OPTIONS')).reason).toMatch(/CSeq/);
  });

  it('truncates a datagram body to Content-Length and refuses a shorter one', () => {
    const m = parseMessage(OPTIONS('Content-Length: 4\r\n', 'abcdefgh'));
    expect(m.body.toString()).toBe('abcd');
    expect(m.warnings).toEqual(['4 octets after the body ignored']);
    expect(refusal(OPTIONS('Content-Length: 9\r\n', 'abcdefgh')).reason).toMatch(
      /larger than the 8 octets/,
    );
    expect(
      refusal(OPTIONS('Content-Length: 4\r\n', 'abcdefgh'), { datagram: false }).reason,
    ).toMatch(/after the Content-Length/);
  });

  it('takes the rest of a datagram as body when there is no Content-Length', () => {
    const m = parseMessage(OPTIONS('', 'hello'));
    expect(m.body.toString()).toBe('hello');
    expect(m.warnings).toContain('no Content-Length: the body runs to the end of the data');
  });

  it('keeps the body as bytes, never decoded', () => {
    const body = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x0d, 0x0a]);
    const data = Buffer.concat([Buffer.from(OPTIONS('Content-Length: 6\r\n')), body]);
    expect(parseMessage(data).body.equals(body)).toBe(true);
  });

  it('refuses with the status to answer: 513/413 too large, 505 other versions', () => {
    // RFC 3261 §21.5.14: the header section alone is over the limit.
    const big = refusal(OPTIONS('X-Pad: ' + 'a'.repeat(2000) + '\r\n'), { maxBytes: 1000 });
    expect(big.statusHint).toBe(513);
    expect(big.sipStatus).toBe(513);
    // §21.4.11: the head fits, the body makes it too large.
    const body = 'b'.repeat(2000);
    const bigBody = refusal(OPTIONS(`Content-Length: ${body.length}\r\n`, body), {
      maxBytes: 1000,
    });
    expect(bigBody.statusHint).toBe(413);
    expect(refusal(OPTIONS().replace('SIP/2.0\r\n', 'SIP/3.0\r\n')).statusHint).toBe(505);
    expect(refusal(OPTIONS().replace('SIP/2.0\r\n', 'HTTP/1.1\r\n')).statusHint).toBe(400);
  });

  it('reads the head of a message refused for its size, to answer it', () => {
    const pad = 'X-Pad: ' + 'a'.repeat(2000) + '\r\n';
    const head = readOversized(Buffer.from(OPTIONS(pad)), 1000);
    expect(head.error.statusHint).toBe(513);
    expect(head.message?.type === 'request' && head.message.method).toBe('OPTIONS');
    expect(head.message?.callId).toBe('a84b4c76e66710');
    expect(head.message?.body.length).toBe(0);
    const body = 'b'.repeat(2000);
    const withBody = readOversized(
      Buffer.from('\r\n' + OPTIONS(`Content-Length: ${body.length}\r\n`, body)),
      1000,
    );
    expect(withBody.error.statusHint).toBe(413);
    expect(withBody.message?.cseq.seq).toBe(63104);
    // Nothing to answer with: no end of the head, a missing Call-ID, a broken start line.
    expect(readOversized(Buffer.from('x'.repeat(2000)), 1000)).toMatchObject({
      message: undefined,
    });
    expect(
      readOversized(Buffer.from(OPTIONS(pad).replace(/Call-ID: [^\r]*\r\n/, '')), 1000).message,
    ).toBeUndefined();
    expect(
      readOversized(Buffer.from(OPTIONS(pad).replace('OPTIONS sip:', 'OPTIONS  sip:')), 1000)
        .message,
    ).toBeUndefined();
  });

  it('refuses malformed framing and lines', () => {
    expect(refusal(OPTIONS().slice(0, -2)).reason).toMatch(/no empty line/);
    expect(refusal('\r\n\r\n').reason).toMatch(/only CRLF/);
    expect(refusal(OPTIONS('X-Bad: a\nInjected: b\r\n')).reason).toMatch(/bare CR or LF/);
    expect(refusal(OPTIONS('X-Bad: a\rb\r\n')).reason).toMatch(/bare CR or LF/);
    expect(refusal(OPTIONS('no colon here\r\n')).reason).toMatch(/bad header line/);
    expect(refusal(OPTIONS('Bad Name: x\r\n')).reason).toMatch(/bad header line/);
    expect(
      refusal(
        `INVITE sip:a@b SIP/2.0\r\n continuation\r\n${OPTIONS().split('\r\n').slice(1).join('\r\n')}`,
      ).reason,
    ).toMatch(/continuation/);
    expect(refusal(OPTIONS('Content-Length: 1e3\r\n')).reason).toMatch(/bad Content-Length/);
    expect(refusal(OPTIONS('Content-Length: 0\r\nl: 0\r\n')).reason).toMatch(
      /more than one Content-Length/,
    );
    expect(
      refusal(OPTIONS().replace('sip:bob@example.com SIP', 'sip:bob\t@example.com SIP')).reason,
    ).toMatch(/Request-URI/);
    expect(refusal(OPTIONS().replace('OPTIONS sip', 'OPT(IONS sip')).reason).toMatch(/Method/);
  });

  it('refuses a header section that is not UTF-8', () => {
    const data = Buffer.concat([
      Buffer.from(OPTIONS().slice(0, 40)),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(OPTIONS().slice(40)),
    ]);
    expect(refusal(data).reason).toMatch(/not UTF-8/);
  });

  it('parses header structure lazily: a bad Contact fails on access, not on parse', () => {
    const m = parseMessage(OPTIONS('Contact: <sip:broken\r\n'));
    expect(() => m.contacts).toThrow(SipParseError);
    expect(() => parseMessage(OPTIONS('Contact: <sip:broken\r\n'), { validate: true })).toThrow(
      /Contact/,
    );
  });

  it('caches a parsed header until that header changes', () => {
    const m = parseMessage(OPTIONS());
    const vias = m.vias;
    expect(m.vias).toBe(vias);
    m.headers.prepend('Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp');
    expect(m.vias.map((v) => v.host)).toEqual(['proxy.example.com', 'pc33.example.com']);
    expect(m.from).toBe(m.from);
  });

  it('reads Max-Forwards with leading zeros and refuses values above 255', () => {
    expect(
      parseMessage(OPTIONS().replace('Max-Forwards: 70', 'Max-Forwards: 0068')).maxForwards,
    ).toBe(68);
    const m = parseMessage(OPTIONS().replace('Max-Forwards: 70', 'Max-Forwards: 300'));
    expect(() => m.maxForwards).toThrow(/0-255/);
  });

  it('refuses a request whose Request-URI has headers or an unsupported scheme only when validating', () => {
    const http = OPTIONS().replace('sip:bob@example.com SIP', 'http://example.com/ SIP');
    expect(parseMessage(http).type).toBe('request');
    expect(refusal(http, { validate: true }).statusHint).toBe(416);
    expect(parseMessage(http, { validate: { uriSchemes: ['http'] } }).type).toBe('request');
  });

  it('recognises the Contact wildcard', () => {
    const m = parseMessage(OPTIONS('Contact: *\r\nExpires: 0\r\n'));
    expect(m.isWildcardContact).toBe(true);
    expect(m.contacts).toEqual([]);
  });
});
