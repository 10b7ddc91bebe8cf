import { describe, expect, it } from 'vitest';
import { DigestClient } from '../sip/digest-client.js';
import {
  SipRequest,
  SipResponse,
  formatDigestChallenge,
  type DigestChallenge,
} from '../sip/message/index.js';
import { DialChallenges } from './dial-challenges.js';

const md5: DigestChallenge = {
  realm: 'carrier.test',
  nonce: 'n1',
  algorithm: 'MD5',
  qop: ['auth'],
};

function invite(): SipRequest {
  return new SipRequest({
    method: 'INVITE',
    requestUri: 'sip:+14155550100@carrier.test',
    headers: [
      ['Via', 'SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-first'],
      ['From', '<sip:+14155550199@parley.test>;tag=a'],
      ['To', '<sip:+14155550100@carrier.test>'],
      ['Call-ID', 'c1'],
      ['CSeq', '1 INVITE'],
    ],
    body: 'v=0\r\n',
  });
}

function challenge(status: 401 | 407, c: DigestChallenge = md5): SipResponse {
  const name = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  return new SipResponse({
    status,
    reason: 'Unauthorized',
    headers: [[name, formatDigestChallenge(c)]],
  });
}

describe('DialChallenges', () => {
  it('answers a 407 with the same INVITE, CSeq + 1, no Via, Proxy-Authorization (RFC 3261 §22.2)', () => {
    const seen: [number, boolean][] = [];
    const challenges = new DialChallenges(
      new DigestClient({ username: 'u', password: 'p' }),
      (status, answered) => seen.push([status, answered]),
    );
    const answer = challenges.answer(invite(), challenge(407), 407);
    if (!answer.ok) throw new Error(answer.detail);
    expect(answer.realm).toBe('carrier.test');
    expect(answer.retry.cseq.seq).toBe(2);
    expect(answer.retry.headers.get('call-id')).toBe('c1');
    expect(answer.retry.headers.get('from')).toBe('<sip:+14155550199@parley.test>;tag=a');
    expect(answer.retry.headers.get('via')).toBeUndefined();
    expect(answer.retry.headers.get('proxy-authorization')).toMatch(/^Digest .*username="u"/);
    expect(seen).toEqual([[407, true]]);
  });

  it('refuses a trunk without credentials, and a fourth challenge from one peer until reset', () => {
    const seen: [number, boolean][] = [];
    const none = new DialChallenges(undefined, (status, answered) => seen.push([status, answered]));
    expect(none.answer(invite(), challenge(401), 401)).toEqual({
      ok: false,
      detail: 'challenged but the trunk has no auth',
    });
    expect(seen).toEqual([[401, false]]);

    const challenges = new DialChallenges(
      new DigestClient({ username: 'u', password: 'p' }),
      undefined,
    );
    let request = invite();
    for (let i = 1; i <= 3; i += 1) {
      const answer = challenges.answer(request, challenge(401, { ...md5, nonce: `n${i}` }), 401);
      if (!answer.ok) throw new Error(answer.detail);
      request = answer.retry;
    }
    expect(challenges.answer(request, challenge(401, { ...md5, nonce: 'n4' }), 401)).toEqual({
      ok: false,
      detail: 'challenged too often',
    });
    challenges.reset();
    expect(challenges.answer(invite(), challenge(401, { ...md5, nonce: 'n5' }), 401).ok).toBe(true);
  });

  it('says why the digest client would not answer', () => {
    const challenges = new DialChallenges(
      new DigestClient({ username: 'u', password: 'p', realm: 'other.test' }),
      undefined,
    );
    expect(challenges.answer(invite(), challenge(401), 401)).toEqual({
      ok: false,
      detail: 'challenge wrong_realm',
    });
  });
});
