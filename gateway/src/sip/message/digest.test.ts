import { describe, expect, it } from 'vitest';
import {
  answerDigestChallenge,
  computeDigestResponse,
  digestHa1,
  formatDigestChallenge,
  formatDigestCredentials,
  parseDigestChallenge,
  parseDigestCredentials,
  verifyDigestResponse,
} from './digest.js';
import { SipParseError } from './sip-parse-error.js';

// RFC 2617 §3.5.
const RFC2617 = {
  username: 'Mufasa',
  realm: 'testrealm@host.com',
  password: 'Circle Of Life',
  nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  method: 'GET',
  uri: '/dir/index.html',
  qop: 'auth' as const,
  nc: '00000001',
  cnonce: '0a4f113b',
};

// RFC 7616 §3.9.1.
const RFC7616 = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  method: 'GET',
  uri: '/dir/index.html',
  qop: 'auth' as const,
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

describe('Digest responses', () => {
  it('matches the RFC 2617 example (MD5, qop=auth)', () => {
    expect(computeDigestResponse(RFC2617)).toBe('6629fae49393a05397450978507c4ef1');
    const ha1 = digestHa1(RFC2617.username, RFC2617.realm, RFC2617.password);
    expect(computeDigestResponse({ ...RFC2617, password: undefined, ha1 })).toBe(
      '6629fae49393a05397450978507c4ef1',
    );
  });

  it('matches the RFC 7616 §3.9.1 examples (MD5 and SHA-256)', () => {
    expect(computeDigestResponse({ ...RFC7616, algorithm: 'MD5' })).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
    expect(computeDigestResponse({ ...RFC7616, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('parses the RFC 7616 challenge and credentials and verifies them', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256,' +
        ' nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect(challenge).toMatchObject({
      realm: RFC7616.realm,
      algorithm: 'SHA-256',
      qop: ['auth', 'auth-int'],
    });
    const header =
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256,' +
      ' nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",' +
      ' qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",' +
      ' opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const credentials = parseDigestCredentials(header);
    expect(credentials).toMatchObject({
      username: 'Mufasa',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000001',
    });
    expect(verifyDigestResponse(credentials, { method: 'GET', password: 'Circle of Life' })).toBe(
      true,
    );
    expect(verifyDigestResponse(credentials, { method: 'GET', password: 'circle of life' })).toBe(
      false,
    );
    expect(verifyDigestResponse(credentials, { method: 'POST', password: 'Circle of Life' })).toBe(
      false,
    );
    expect(parseDigestCredentials(formatDigestCredentials(credentials))).toEqual(credentials);
  });

  it('answers a SIP challenge and verifies every algorithm, -sess, auth-int and userhash', () => {
    const body = Buffer.from('v=0\r\n');
    for (const algorithm of [
      'MD5',
      'MD5-sess',
      'SHA-256',
      'SHA-256-sess',
      'SHA-512-256',
      'SHA-512-256-sess',
    ] as const) {
      for (const qop of [['auth'], ['auth-int'], undefined]) {
        for (const userhash of [false, true]) {
          const challenge = parseDigestChallenge(
            formatDigestChallenge({
              realm: 'pbx.example.com',
              nonce: 'n0nce',
              opaque: 'op',
              algorithm,
              qop,
              userhash,
            }),
          );
          const answer = answerDigestChallenge(challenge, {
            username: 'agent 7',
            password: 'pässword',
            method: 'INVITE',
            uri: 'sip:queue@pbx.example.com',
            body,
            cnonce: 'c1',
            nc: 3,
          });
          const received = parseDigestCredentials(formatDigestCredentials(answer));
          const label = `${algorithm} ${qop?.join() ?? 'none'} ${userhash}`;
          expect(received.userhash === true, label).toBe(userhash);
          expect(
            verifyDigestResponse(received, {
              method: 'INVITE',
              username: 'agent 7',
              password: 'pässword',
              body,
            }),
            label,
          ).toBe(true);
          expect(
            verifyDigestResponse(received, {
              method: 'INVITE',
              username: 'agent 7',
              password: 'wrong',
              body,
            }),
            label,
          ).toBe(false);
          if (qop?.[0] === 'auth-int') {
            expect(
              verifyDigestResponse(received, {
                method: 'INVITE',
                username: 'agent 7',
                password: 'pässword',
                body: Buffer.from('v=1\r\n'),
              }),
            ).toBe(false);
          }
        }
      }
    }
  });

  it('writes challenges with the RFC 7616 quoting rules', () => {
    expect(
      formatDigestChallenge({
        realm: 'a "b"',
        nonce: 'n',
        algorithm: 'SHA-256',
        qop: ['auth'],
        stale: true,
        opaque: 'o',
      }),
    ).toBe(
      'Digest realm="a \\"b\\"", nonce="n", opaque="o", stale=true, algorithm=SHA-256, qop="auth"',
    );
  });

  it('refuses malformed or foreign headers with SipParseError', () => {
    for (const bad of [
      'Basic dXNlcjpwYXNz',
      'Digest realm="x"',
      'Digest realm="x", nonce="n", algorithm=SHA-1',
      'Digest realm="x" nonce="n"',
      'Digest realm="x", realm="y", nonce="n"',
      'Digest realm="unterminated',
      'Digest =x',
    ]) {
      expect(() => parseDigestChallenge(bad), bad).toThrow(SipParseError);
    }
    expect(() =>
      parseDigestCredentials(
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="r", qop=auth',
      ),
    ).toThrow(/nc and cnonce/);
    expect(() =>
      parseDigestCredentials(
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="r", qop=auth, nc=1, cnonce="c"',
      ),
    ).toThrow(/nc/);
  });
});
