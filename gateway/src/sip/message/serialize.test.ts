import { describe, expect, it } from 'vitest';
import { INVITE } from './fixtures/fixtures.js';
import { parseMessage } from './parse-message.js';
import { serialize } from './serialize.js';
import { SipRequest, SipResponse } from './sip-message.js';

describe('serialize', () => {
  it('writes a parsed message back byte for byte when nothing was folded or changed', () => {
    expect(serialize(parseMessage(INVITE)).toString()).toBe(INVITE);
  });

  it('always writes the Content-Length of the body, where the first one was', () => {
    const m = parseMessage(INVITE);
    m.body = Buffer.from('v=0\r\n');
    const text = serialize(m).toString();
    expect(text).toContain('Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n');
    const compact = parseMessage(INVITE.replace('Content-Length: 205', 'l: 205'));
    expect(serialize(compact).toString()).toContain('\r\nl: 205\r\n');
  });

  it('appends Content-Length with its full name when there was none', () => {
    const request = new SipRequest({
      method: 'OPTIONS',
      requestUri: 'sip:b@example.com',
      headers: [
        ['v', 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1'],
        ['Subject', ''],
      ],
      body: Buffer.from([0, 1, 2]),
    });
    const out = serialize(request);
    expect(out.subarray(0, out.length - 3).toString()).toBe(
      'OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nSubject:\r\nContent-Length: 3\r\n\r\n',
    );
    expect([...out.subarray(-3)]).toEqual([0, 1, 2]);
  });

  it('writes folded headers unfolded, in order, with their names as written', () => {
    const m = parseMessage(
      INVITE.replace('Supported: replaces, timer', 'supported: replaces,\r\n  timer'),
    );
    expect(serialize(m).toString()).toContain('\r\nsupported: replaces, timer\r\n');
  });

  it('writes responses and refuses start lines that would not parse', () => {
    expect(serialize(new SipResponse({ status: 180, reason: 'Ringing' })).toString()).toBe(
      'SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n',
    );
    expect(() => serialize(new SipResponse({ status: 1800, reason: 'x' }))).toThrow(TypeError);
    expect(() => serialize(new SipResponse({ status: 200, reason: 'OK\r\nX: y' }))).toThrow(
      TypeError,
    );
    expect(() => serialize(new SipRequest({ method: 'BAD METHOD', requestUri: 'sip:x' }))).toThrow(
      TypeError,
    );
    expect(() => serialize(new SipRequest({ method: 'INVITE', requestUri: 'sip:x y' }))).toThrow(
      TypeError,
    );
  });
});
