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

const request = (headers: [string, string][], method = 'INVITE') =>
  new SipRequest({
    method,
    requestUri: 'sip:sales@parley.test',
    headers: [
      ['Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1'],
      ['From', '<sip:edge@parley.invalid>;tag=1'],
      ['To', '<sip:sales@parley.test>'],
      ['Call-ID', 'c1'],
      ['CSeq', `1 ${method}`],
      ...headers,
    ],
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

  it("reads the proxy's connection id", () => {
    expect(parseEdgeSource('WS 203.0.113.9:52110;conn=17')).toEqual({
      protocol: 'WS',
      address: '203.0.113.9',
      port: 52110,
      conn: '17',
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
      'WS 1.2.3.4:5;conn=',
      'WS 1.2.3.4:5;conn=x1',
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
      // No connection named: the proxy's flow is all we know.
      connection: 'udp:10.0.0.5:5060',
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

  it("names a client's connection to the proxy by the proxy's id, scoped to the proxy", () => {
    const on = (address: string, conn: string) => {
      const r = request([['X-Parley-Source', `WS 198.51.100.4:52110;conn=${conn}`]]);
      trust.apply(r, flow(address));
      return clientOf(r, flow(address)).connection;
    };
    expect(on('10.0.0.5', '17')).toBe(on('10.0.0.5', '17'));
    expect(on('10.0.0.5', '17')).not.toBe(on('10.0.0.5', '18'));
    expect(on('10.0.0.5', '17')).not.toBe(on('10.0.0.6', '17'));
    // The proxy's connection to the gateway replaced mid-call (TCP: a new flow): still the same.
    const r = request([['X-Parley-Source', 'WS 198.51.100.4:52110;conn=17']]);
    const replaced = { ...flow('10.0.0.5'), id: 'tcp:another-connection' };
    trust.apply(r, replaced);
    expect(clientOf(r, replaced).connection).toBe(on('10.0.0.5', '17'));
    // Not believed from anyone else: the flow's own id.
    expect(on('192.0.2.1', '17')).toBe('udp:192.0.2.1:5060');
  });

  it("takes the proxy's own OPTIONS with X-Parley-Closed as that connection's close", () => {
    const closed = (address: string, headers: [string, string][], method = 'OPTIONS') => {
      const r = request(headers, method);
      const id = trust.closedConnection(r, flow(address));
      expect(r.headers.has('x-parley-closed')).toBe(false);
      return id;
    };
    const named = request([['X-Parley-Source', 'WS 198.51.100.4:52110;conn=17']]);
    trust.apply(named, flow('10.0.0.5'));
    expect(closed('10.0.0.5', [['X-Parley-Closed', '17']])).toBe(
      clientOf(named, flow('10.0.0.5')).connection,
    );
    // Not from anyone else, not a client's request relayed (it names a client), not another method.
    expect(closed('192.0.2.1', [['X-Parley-Closed', '17']])).toBeUndefined();
    expect(
      closed('10.0.0.5', [
        ['X-Parley-Closed', '17'],
        ['X-Parley-Source', 'WS 198.51.100.4:52110;conn=9'],
      ]),
    ).toBeUndefined();
    expect(closed('10.0.0.5', [['X-Parley-Closed', '17']], 'MESSAGE')).toBeUndefined();
    expect(closed('10.0.0.5', [['X-Parley-Closed', 'all']])).toBeUndefined();
    expect(closed('10.0.0.5', [])).toBeUndefined();
  });
});
