import { describe, expect, it } from 'vitest';
import { INVITE, REGISTER } from './fixtures/fixtures.js';
import { SipStreamDecoder, type SipStreamEvent } from './stream-decoder.js';

function feed(
  decoder: SipStreamDecoder,
  data: Buffer | string,
  chunk = Infinity,
): SipStreamEvent[] {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const events: SipStreamEvent[] = [];
  const size = Number.isFinite(chunk) ? chunk : buf.length || 1;
  for (let i = 0; i < buf.length; i += size)
    events.push(...decoder.push(buf.subarray(i, i + size)));
  return events;
}

function summary(events: SipStreamEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'message')
      return e.message.type === 'request' ? e.message.method : String(e.message.status);
    if (e.type === 'error') return `${e.fatal ? 'fatal' : 'error'} ${e.error.statusHint}`;
    return e.type;
  });
}

const RESPONSE =
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nTo: <sip:a@x>;tag=2\r\nFrom: <sip:b@x>;tag=1\r\n' +
  'Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';

describe('SipStreamDecoder', () => {
  it('frames several messages in one chunk and one message in many', () => {
    const decoder = new SipStreamDecoder();
    expect(summary(feed(decoder, INVITE + REGISTER + RESPONSE))).toEqual([
      'INVITE',
      'REGISTER',
      '200',
    ]);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const events = feed(decoder, INVITE + RESPONSE, size);
      expect(summary(events), `chunks of ${size}`).toEqual(['INVITE', '200']);
      const first = events[0];
      expect(first?.type === 'message' && first.message.body.length).toBe(205);
    }
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('reports CRLFCRLF pings and CRLF pongs between messages (RFC 5626 §3.5.1)', () => {
    const decoder = new SipStreamDecoder();
    expect(summary(feed(decoder, '\r\n\r\n'))).toEqual(['ping']);
    expect(summary(feed(decoder, `\r\n${RESPONSE}\r\n\r\n\r\n\r\n`))).toEqual([
      'pong',
      '200',
      'ping',
      'ping',
    ]);
    expect(summary(feed(decoder, '\r\n'))).toEqual(['pong']);
    // A ping cut in two: the first half looks like a pong, the second still makes a ping.
    expect(summary(feed(decoder, '\r\n'))).toEqual(['ping']);
    expect(summary(feed(decoder, '\r\n\r\n', 1))).toEqual(['pong', 'ping']);
  });

  it('closes on a message without Content-Length, a bad one, or two', () => {
    for (const bad of [
      REGISTER.replace('Content-Length: 0\r\n', ''),
      REGISTER.replace('Content-Length: 0', 'Content-Length: -1'),
      REGISTER.replace('Content-Length: 0', 'Content-Length: 0\r\nl: 0'),
    ]) {
      const decoder = new SipStreamDecoder();
      expect(summary(feed(decoder, bad + REGISTER))).toEqual(['fatal 400']);
      expect(decoder.failed).toBe(true);
      expect(decoder.push(Buffer.from(REGISTER))).toEqual([]);
      decoder.reset();
      expect(summary(feed(decoder, REGISTER))).toEqual(['REGISTER']);
    }
  });

  it('skips a well-framed message that does not parse, and goes on', () => {
    const decoder = new SipStreamDecoder();
    const bad = INVITE.replace(
      'INVITE sip:agent@pbx.example.com SIP/2.0',
      'INVITE  sip:agent@pbx.example.com SIP/2.0',
    );
    const mismatch = REGISTER.replace('1826 REGISTER', '1826 INVITE');
    expect(summary(feed(decoder, bad + mismatch + REGISTER, 5))).toEqual([
      'error 400',
      'error 400',
      'REGISTER',
    ]);
    expect(summary(feed(decoder, INVITE.replace('SIP/2.0\r\n', 'SIP/3.0\r\n') + REGISTER))).toEqual(
      ['error 505', 'REGISTER'],
    );
  });

  it('refuses a message over maxBytes without buffering it, keeping its head to answer 413', () => {
    const decoder = new SipStreamDecoder({ maxBytes: 2048 });
    const big =
      INVITE.replace('Content-Length: 205', `Content-Length: ${205 + 100_000}`) +
      'x'.repeat(100_000);
    const events = feed(decoder, big + REGISTER, 1400);
    expect(summary(events)).toEqual(['error 413', 'REGISTER']);
    const refused = events[0];
    expect(
      refused?.type === 'error' && refused.message?.type === 'request' && refused.message.callId,
    ).toBe('a84b4c76e66710@gw.example.com');
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('refuses a body too large to skip with a fatal 413 that still carries the head to answer', () => {
    const decoder = new SipStreamDecoder({ maxBytes: 2048, maxSkipBytes: 50_000 });
    const huge = INVITE.replace('Content-Length: 205', 'Content-Length: 999999999999');
    const events = feed(decoder, huge + 'x'.repeat(10_000) + REGISTER, 1400);
    expect(summary(events)).toEqual(['fatal 413']);
    const refused = events[0];
    expect(
      refused?.type === 'error' && refused.message?.type === 'request' && refused.message.callId,
    ).toBe('a84b4c76e66710@gw.example.com');
    expect(decoder.failed).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('closes on a header section larger than maxBytes however the chunks fall (513)', () => {
    const big = REGISTER.replace('\r\n', `\r\nX-Pad: ${'p'.repeat(2000)}\r\n`);
    for (const chunk of [Infinity, 700, 1500]) {
      const decoder = new SipStreamDecoder({ maxBytes: 1024 });
      expect(summary(feed(decoder, big + REGISTER, chunk)), String(chunk)).toEqual(['fatal 513']);
      expect(decoder.failed).toBe(true);
    }
  });

  it('closes on a header section larger than maxBytes, and on bytes that are not SIP', () => {
    const decoder = new SipStreamDecoder({ maxBytes: 1024 });
    const events = feed(decoder, `INVITE sip:a@b SIP/2.0\r\nX-Long: ${'a'.repeat(5000)}`, 100);
    expect(summary(events)).toEqual(['fatal 513']);
    expect(decoder.bufferedBytes).toBe(0);
    for (const garbage of [
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'z'.repeat(40),
      'hello\r\n',
    ]) {
      const d = new SipStreamDecoder();
      expect(summary(feed(d, garbage)), JSON.stringify(garbage)).toEqual(['fatal 400']);
    }
  });

  it('validates on request and hands over the message it refuses', () => {
    const decoder = new SipStreamDecoder({ validate: true });
    const events = feed(
      decoder,
      REGISTER.replace('REGISTER sip:pbx.example.com', 'REGISTER mailto:pbx@example.com'),
    );
    expect(summary(events)).toEqual(['error 416']);
    expect(events[0]?.type === 'error' && events[0].message?.type).toBe('request');
  });
});
