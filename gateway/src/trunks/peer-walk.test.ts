import { describe, expect, it } from 'vitest';
import { PeerWalk } from './peer-walk.js';
import type { TrunkPeerInfo } from './trunk.js';

function peer(host: string, transport: 'udp' | 'tcp' = 'udp'): TrunkPeerInfo {
  return { id: `${host}:5060/${transport}`, host, port: 5060, transport, priority: 1, weight: 1 };
}

describe('PeerWalk', () => {
  it('walks the peers in order and says what the last one answered once all failed', () => {
    const a = peer('192.0.2.1');
    const b = peer('192.0.2.2');
    const walk = new PeerWalk([a, b]);
    expect(walk.empty).toBe(false);
    expect(walk.current).toBeUndefined();
    expect(walk.next()).toBe(a);
    walk.ended(503);
    expect(walk.next()).toBe(b);
    expect(walk.current).toBe(b);
    walk.ended(408);
    expect(walk.next()).toBeUndefined();
    expect(walk.current).toBeUndefined();
    expect(walk.exhausted()).toBe('every peer failed (last status 408)');
    expect(new PeerWalk([]).empty).toBe(true);
    expect(new PeerWalk([]).exhausted()).toBe('every peer failed (last status none)');
  });

  it('moves on after 503 or 408 only before the peer rang and when not cancelled (RFC 3263 §4.3)', () => {
    const walk = new PeerWalk([peer('192.0.2.1'), peer('192.0.2.2')]);
    walk.next();
    expect(walk.movesOn(503, false)).toBe(true);
    expect(walk.movesOn(408, false)).toBe(true);
    expect(walk.movesOn(486, false)).toBe(false);
    expect(walk.movesOn(500, false)).toBe(false);
    expect(walk.movesOn(503, true)).toBe(false);
    walk.rang();
    expect(walk.ringing).toBe(true);
    expect(walk.movesOn(503, false)).toBe(false);
    // The next peer starts without ringing.
    walk.next();
    expect(walk.ringing).toBe(false);
    expect(walk.movesOn(503, false)).toBe(true);
  });

  it('has no ringing INVITE before one was sent', () => {
    const walk = new PeerWalk([peer('192.0.2.1')]);
    walk.next();
    walk.rang();
    expect(walk.ict).toBeUndefined();
    expect(walk.invite).toBeUndefined();
    expect(walk.ringingInvite()).toBeUndefined();
  });
});
