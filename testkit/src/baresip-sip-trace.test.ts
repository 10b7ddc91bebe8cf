import { describe, expect, it } from 'vitest';

import { decodeNetstrings, encodeNetstring } from './baresip-ctrl.js';
import { BaresipSipTraceParser } from './baresip-sip-trace.js';

const invite = [
  'INVITE sip:agent1@127.0.0.1:5080 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1',
  'f: <sip:visitor@127.0.0.1:5062>;tag=1',
  'Authorization: Bearer abc.def',
  'X-Long: one',
  ' two',
  'Content-Length: 4',
  '',
  'v=0',
].join('\r\n');

describe('baresip SIP trace', () => {
  it('splits messages out of stdout, whatever the chunking, and tells their direction', () => {
    const seen: string[] = [];
    const parser = new BaresipSipTraceParser({
      localAddress: '127.0.0.1:5080',
      onMessage: (m) => seen.push(m.startLine),
    });
    const text =
      'baresip is ready.\n\x1b[31mwarning\n\x1b[;m\x1b[36;1m#\nUDP 127.0.0.1:5062 -> 127.0.0.1:5080\n' +
      `${invite}\r\n\x1b[;m\n` +
      '\x1b[36;1m#\nTCP 127.0.0.1:41000 -> 127.0.0.1:5070\nREGISTER sip:127.0.0.1:5070 SIP/2.0\r\n' +
      'Via: SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bK-2\r\n\r\n\x1b[;m\n';
    for (let i = 0; i < text.length; i += 7) parser.push(text.slice(i, i + 7));
    expect(seen).toEqual([
      'INVITE sip:agent1@127.0.0.1:5080 SIP/2.0',
      'REGISTER sip:127.0.0.1:5070 SIP/2.0',
    ]);
    const [first, second] = parser.messages;
    expect(first?.direction).toBe('in');
    expect(first?.header('authorization')).toBe('Bearer abc.def');
    expect(first?.header('From')).toBe('<sip:visitor@127.0.0.1:5062>;tag=1');
    expect(first?.header('x-long')).toBe('one two');
    expect(first?.body).toBe('v=0\r\n');
    expect(second?.direction).toBe('out');
    expect(second?.transport).toBe('TCP');
  });

  it('frames ctrl_tcp netstrings', () => {
    const both = Buffer.concat([encodeNetstring('{"a":"é"}'), encodeNetstring('{}')]);
    const half = decodeNetstrings(both.subarray(0, 8));
    expect(half.payloads).toEqual([]);
    const all = decodeNetstrings(both);
    expect(all.payloads).toEqual(['{"a":"é"}', '{}']);
    expect(all.rest.length).toBe(0);
  });
});
