/**
 * A visitor's connection, direct or behind an edge proxy: who gets a rebind
 * key, what a request on another connection is (the leg's own, a rebind, a
 * refusal), and the wait for a lost connection.
 */
import { describe, expect, it, vi } from 'vitest';
import { EdgeTrust, type Flow, type SipProtocol } from '../sip/index.js';
import { SipRequest } from '../sip/message/index.js';
import { REBIND_HEADER } from './rebind.js';
import { VisitorConnection } from './visitor-connection.js';

const PAGE = 'https://shop.example';
const EDGE = '10.0.0.5';
const trust = new EdgeTrust([EDGE]);

function flow(protocol: SipProtocol, address: string, port: number, origin?: string): Flow {
  return {
    id: `${protocol.toLowerCase()}:${address}:${port}`,
    protocol,
    local: { address: '127.0.0.1', port: 5060 },
    remote: { address, port },
    reliable: protocol !== 'UDP',
    origin,
    closed: false,
    send: () => true,
    close: () => undefined,
  };
}

/** A request as the transport hands it on: the edge's headers read from a trusted proxy. */
function request(on: Flow, headers: [string, string][] = []): SipRequest {
  const r = new SipRequest({
    method: 'INVITE',
    requestUri: 'sip:sales@parley.test',
    headers: [
      ['Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1'],
      ['From', '<sip:visitor@parley.invalid>;tag=1'],
      ['To', '<sip:sales@parley.test>'],
      ['Call-ID', 'c1'],
      ['CSeq', '1 INVITE'],
      ...headers,
    ],
  });
  trust.apply(r, on);
  return r;
}

const kamailio = flow('UDP', EDGE, 5060);
const viaEdge = (conn: string, origin = PAGE, extra: [string, string][] = []) =>
  request(kamailio, [
    ['X-Parley-Source', `WS 198.51.100.4:52110;conn=${conn}`],
    ['X-Parley-Origin', origin],
    ...extra,
  ]);

describe('VisitorConnection', () => {
  it('gives a browser a rebind key: over its WebSocket, or over one the edge proxy names', () => {
    const direct = flow('WS', '198.51.100.4', 52110, PAGE);
    expect(new VisitorConnection(request(direct), direct, true).rebindKey).toBeDefined();
    expect(new VisitorConnection(viaEdge('17'), kamailio, true).rebindKey).toBeDefined();
    // The proxy did not name the connection: a reconnect could not be told apart.
    const unnamed = request(kamailio, [['X-Parley-Source', 'WS 198.51.100.4:52110']]);
    expect(new VisitorConnection(unnamed, kamailio, true).rebindKey).toBeUndefined();
    // A SIP phone, and a plain-RTP offer, get none.
    expect(new VisitorConnection(request(kamailio), kamailio, false).rebindKey).toBeUndefined();
    expect(new VisitorConnection(viaEdge('17'), kamailio, false).rebindKey).toBeUndefined();
  });

  it('behind the proxy: the same connection passes, another needs the key from the same page, and takes the leg', () => {
    const connection = new VisitorConnection(viaEdge('17'), kamailio, true);
    const key = connection.rebindKey ?? '';
    expect(connection.check(viaEdge('17'), kamailio)).toEqual({ kind: 'same' });
    expect(connection.check(viaEdge('18'), kamailio).kind).toBe('refused');
    expect(
      connection.check(viaEdge('18', PAGE, [[REBIND_HEADER, 'another-calls-key']]), kamailio).kind,
    ).toBe('refused');
    expect(
      connection.check(viaEdge('18', 'https://evil.example', [[REBIND_HEADER, key]]), kamailio)
        .kind,
    ).toBe('refused');
    const before = connection.id;
    const rebound = connection.check(viaEdge('18', PAGE, [[REBIND_HEADER, key]]), kamailio);
    // Never lost (no wait was started): no gap to tell.
    expect(rebound).toEqual({ kind: 'rebound', from: before, to: connection.id, gapMs: undefined });
    expect(connection.id).not.toBe(before);
    // The old connection is now the stranger.
    expect(connection.check(viaEdge('17'), kamailio).kind).toBe('refused');
    expect(connection.check(viaEdge('18'), kamailio)).toEqual({ kind: 'same' });
  });

  it('waits for a lost connection for the grace, and stops waiting when it comes back', () => {
    vi.useFakeTimers();
    try {
      const connection = new VisitorConnection(viaEdge('17'), kamailio, true);
      const expired = vi.fn();
      expect(connection.wait(0, expired)).toBe(false);
      expect(connection.wait(8000, expired)).toBe(true);
      expect(connection.waiting).toBe(true);
      vi.advanceTimersByTime(7999);
      expect(expired).not.toHaveBeenCalled();
      const back = connection.check(
        viaEdge('18', PAGE, [[REBIND_HEADER, connection.rebindKey ?? '']]),
        kamailio,
      );
      expect(back.kind).toBe('rebound');
      expect(connection.waiting).toBe(false);
      vi.advanceTimersByTime(10_000);
      expect(expired).not.toHaveBeenCalled();

      const lost = new VisitorConnection(viaEdge('19'), kamailio, true);
      lost.wait(8000, expired);
      vi.advanceTimersByTime(8000);
      expect(expired).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
