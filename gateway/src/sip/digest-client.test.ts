import { describe, expect, it } from 'vitest';
import { DigestClient } from './digest-client.js';
import {
  SipRequest,
  SipResponse,
  formatDigestChallenge,
  parseDigestCredentials,
  verifyDigestResponse,
  type DigestChallenge,
} from './message/index.js';

const USER = { username: 'trunk-user', password: 's3cret' };

function invite(): SipRequest {
  return new SipRequest({
    method: 'INVITE',
    requestUri: 'sip:+14155550100@carrier.test',
    headers: [
      ['From', '<sip:+14155550199@parley.test>;tag=a'],
      ['To', '<sip:+14155550100@carrier.test>'],
      ['Call-ID', 'c1'],
      ['CSeq', '1 INVITE'],
    ],
    body: 'v=0\r\n',
  });
}

function challenge(status: 401 | 407, ...challenges: DigestChallenge[]): SipResponse {
  const name = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  return new SipResponse({
    status,
    reason: 'Unauthorized',
    headers: challenges.map((c) => [name, formatDigestChallenge(c)] as [string, string]),
  });
}

/** What a server does with the request: parse the header and verify it with digest.ts. */
function serverAccepts(request: SipRequest, header = 'authorization', password = USER.password) {
  const credentials = parseDigestCredentials(request.headers.get(header) ?? '');
  return {
    credentials,
    ok: verifyDigestResponse(credentials, { method: request.method, password, body: request.body }),
  };
}

const md5: DigestChallenge = {
  realm: 'carrier.test',
  nonce: 'n-md5',
  algorithm: 'MD5',
  qop: ['auth'],
  opaque: 'op1',
};
const sha: DigestChallenge = { ...md5, nonce: 'n-sha', algorithm: 'SHA-256' };

describe('DigestClient against the server side (digest.ts)', () => {
  it('answers a 401 with MD5 qop=auth credentials the server verifies', () => {
    const client = new DigestClient(USER);
    const request = invite();
    expect(client.authorize(request, challenge(401, md5))).toEqual({
      ok: true,
      header: 'Authorization',
      realm: 'carrier.test',
    });
    const { ok, credentials } = serverAccepts(request);
    expect(ok).toBe(true);
    expect(credentials).toMatchObject({
      username: 'trunk-user',
      realm: 'carrier.test',
      uri: 'sip:+14155550100@carrier.test',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      opaque: 'op1',
    });
    expect(credentials.cnonce).toMatch(/^[0-9a-f]{32}$/);
    expect(serverAccepts(request, 'authorization', 'wrong').ok).toBe(false);
  });

  it("takes the server's first supported challenge (SHA-256 before MD5) and a 407 as Proxy-Authorization", () => {
    const client = new DigestClient(USER);
    const request = invite();
    const answer = client.authorize(request, challenge(407, sha, md5));
    expect(answer).toMatchObject({ ok: true, header: 'Proxy-Authorization' });
    const { ok, credentials } = serverAccepts(request, 'proxy-authorization');
    expect(ok).toBe(true);
    expect(credentials.algorithm).toBe('SHA-256');
    expect(request.headers.has('authorization')).toBe(false);
  });

  it('counts nc per nonce on a stale re-challenge, with a new cnonce, replacing the old credentials', () => {
    let n = 0;
    const client = new DigestClient(USER, { cnonce: () => `cn${++n}` });
    const request = invite();
    client.authorize(request, challenge(401, md5));
    expect(client.authorize(request, challenge(401, { ...md5, stale: true }))).toMatchObject({
      ok: true,
    });
    expect(request.headers.getLines('authorization')).toHaveLength(1);
    const { ok, credentials } = serverAccepts(request);
    expect(ok).toBe(true);
    expect(credentials).toMatchObject({ nc: '00000002', cnonce: 'cn2' });
  });

  it('gives up when the same nonce is challenged again (wrong password), on a foreign realm, or without a usable challenge', () => {
    const client = new DigestClient({ ...USER, realm: 'carrier.test' });
    const request = invite();
    client.authorize(request, challenge(401, md5));
    expect(client.authorize(request, challenge(401, md5))).toEqual({
      ok: false,
      reason: 'rejected',
    });
    expect(client.authorize(invite(), challenge(401, { ...md5, realm: 'evil.test' }))).toEqual({
      ok: false,
      reason: 'wrong_realm',
    });
    const other = new SipResponse({
      status: 401,
      reason: 'Unauthorized',
      headers: [['WWW-Authenticate', 'Bearer realm="x"']],
    });
    expect(client.authorize(invite(), other)).toEqual({ ok: false, reason: 'unsupported' });
  });

  it('keeps credentials for a proxy realm and a UAS realm side by side', () => {
    const client = new DigestClient(USER);
    const request = invite();
    client.authorize(request, challenge(407, { ...md5, realm: 'proxy.test' }));
    client.authorize(request, challenge(401, { ...sha, realm: 'uas.test' }));
    expect(serverAccepts(request, 'proxy-authorization').ok).toBe(true);
    expect(serverAccepts(request, 'authorization').ok).toBe(true);
  });
});
