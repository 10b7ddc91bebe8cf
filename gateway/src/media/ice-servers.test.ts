import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIceServerSource } from './ice-servers.js';

const turn = { urls: ['turn:127.0.0.1:3478'], secret: 's'.repeat(24), ttlSeconds: 600 };
const stun = { urls: 'stun:127.0.0.1:3478' };

describe('createIceServerSource', () => {
  it('hands out the static servers as they are without media.turn', () => {
    const source = createIceServerSource({ iceServers: [stun], iceTransportPolicy: 'all' });
    expect(source.mint('acme')).toEqual({
      iceServers: [stun],
      iceTransportPolicy: 'all',
      expiresAt: null,
      ttlSeconds: null,
    });
  });

  it('adds fresh TURN credentials the TURN server can check with the secret', () => {
    const source = createIceServerSource(
      { iceServers: [stun], turn, iceTransportPolicy: 'relay' },
      () => 1_700_000_000_000,
    );
    const answer = source.mint('acme');
    expect(answer.iceServers[0]).toEqual(stun);
    expect(answer.iceServers[1]).toEqual({
      urls: turn.urls,
      username: '1700000600:acme',
      credential: createHmac('sha1', turn.secret).update('1700000600:acme').digest('base64'),
    });
    expect(answer.expiresAt).toEqual(new Date(1_700_000_600_000));
    expect(answer.ttlSeconds).toBe(600);
    expect(JSON.stringify(answer)).not.toContain(turn.secret);
  });

  it("puts the key's tenant, cleaned for coturn, after the expiry", () => {
    const source = createIceServerSource({ iceServers: [], turn, iceTransportPolicy: 'all' });
    expect(source.mint('a:b c').iceServers[0]?.username).toMatch(/^\d+:a_b_c$/);
  });
});
