import { describe, expect, it } from 'vitest';
import { SipRequest } from '../message/index.js';
import { EdgeTrust, clientOf, parseEdgeSource } from './edge.js';
import type { Flow } from './flow.js';

const flow = (address: string): Flow => ({
  id: `udp:${address}:5060`,
  protocol: 'UDP',
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address, port: 5060 },
  reliable: false,
  origin: undefined,
  closed: false,
  send: () => true,
  close: () => undefined,
});

const request = (headers: [string, string][]) =>
  new SipRequest({
    method: 'INVITE',
    requestUri: 'sip:sales@parley.test',
    headers: [['Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1'], ...headers],
  });

describe('parseEdgeSource', () => {
  it('reads a transport, an IPv4 or bracketed IPv6 address and a port', () => {
    expect(parseEdgeSource('WS 203.0.113.9:52110')).toEqual({
      protocol: 'WS',
      address: '203.0.113.9',
      port: 52110,
    });
    expect(parseEdgeSource('tls [2001:db8::1]:5061')).toEqual({
      protocol: 'TCP',
      address: '2001:db8::1',
      port: 5061,
    });
  });

  it('refuses what is not one', () => {
    for (const bad of [
      '',
      'WS',
      'SCTP 1.2.3.4:5',
      'WS host.example:5060',
      'WS 1.2.3.4:0',
      'WS 1.2.3.4:99999',
      'WS 999.1.1.1:5',
    ])
      expect(parseEdgeSource(bad)).toBeUndefined();
  });
});

describe('EdgeTrust', () => {
  const trust = new EdgeTrust(['10.0.0.0/24']);

  it('believes a trusted proxy and removes the headers', () => {
    const r = request([
      ['X-Parley-Source', 'WSS 198.51.100.4:443'],
      ['X-Parley-Origin', 'https://shop.example/'],
    ]);
    trust.apply(r, flow('10.0.0.5'));
    expect(clientOf(r, flow('10.0.0.5'))).toEqual({
      protocol: 'WSS',
      address: '198.51.100.4',
      port: 443,
      origin: 'https://shop.example',
      viaEdge: true,
    });
    expect(r.headers.has('x-parley-source')).toBe(false);
    expect(r.headers.has('x-parley-origin')).toBe(false);
  });

  it('drops the headers of anyone else unread', () => {
    const r = request([
      ['X-Parley-Source', 'WS 198.51.100.4:443'],
      ['X-Parley-Origin', 'https://shop.example'],
    ]);
    trust.apply(r, flow('192.0.2.1'));
    expect(clientOf(r, flow('192.0.2.1'))).toMatchObject({
      protocol: 'UDP',
      address: '192.0.2.1',
      origin: undefined,
      viaEdge: false,
    });
    expect(r.headers.has('x-parley-source')).toBe(false);
  });

  it('takes an Origin only with a source, and never the string "null"', () => {
    const lone = request([['X-Parley-Origin', 'https://shop.example']]);
    trust.apply(lone, flow('10.0.0.5'));
    expect(clientOf(lone, flow('10.0.0.5')).viaEdge).toBe(false);
    const opaque = request([
      ['X-Parley-Source', 'WS 198.51.100.4:443'],
      ['X-Parley-Origin', 'null'],
    ]);
    trust.apply(opaque, flow('10.0.0.5'));
    expect(clientOf(opaque, flow('10.0.0.5')).origin).toBeUndefined();
  });
});
