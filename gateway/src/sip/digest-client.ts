/**
 * The client side of SIP digest authentication (RFC 3261 §22.2, §22.3; RFC 7616;
 * RFC 8760 for SHA-256): answers a 401's WWW-Authenticate with Authorization and
 * a 407's Proxy-Authenticate with Proxy-Authorization, counting `nc` per nonce
 * and drawing a fresh `cnonce` each time. The arithmetic is `message/digest.ts`'s
 * (the registrar's server side uses the same code); this class keeps only the
 * state a UAC needs across requests: which nonces it answered and how often.
 */
import { randomBytes } from 'node:crypto';
import {
  answerDigestChallenge,
  formatDigestCredentials,
  parseAuthHeader,
  parseDigestChallenge,
  type DigestChallenge,
  type SipRequest,
  type SipResponse,
} from './message/index.js';

export interface DigestClientCredentials {
  readonly username: string;
  readonly password: string;
  /** Answer only challenges of this realm (a carrier naming another is not given the password). */
  readonly realm?: string | undefined;
}

/** Why a challenge was not answered. */
export type DigestRefusal =
  /** No challenge of a scheme, algorithm and qop we can do. */
  | 'unsupported'
  /** Every challenge names a realm other than the configured one. */
  | 'wrong_realm'
  /** We answered this nonce already and it was refused without `stale=true`: the credentials are wrong. */
  | 'rejected';

export type DigestAnswer =
  | {
      readonly ok: true;
      readonly header: 'Authorization' | 'Proxy-Authorization';
      readonly realm: string;
    }
  | { readonly ok: false; readonly reason: DigestRefusal };

/** Algorithms answered (message/digest.ts computes them all). */
const SUPPORTED = new Set([
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess',
]);

export class DigestClient {
  readonly #credentials: DigestClientCredentials;
  readonly #cnonce: () => string;
  /** nonce → the last nc we sent with it. */
  readonly #nonceCounts = new Map<string, number>();

  constructor(credentials: DigestClientCredentials, options: { cnonce?: () => string } = {}) {
    this.#credentials = credentials;
    this.#cnonce = options.cnonce ?? (() => randomBytes(16).toString('hex'));
  }

  /**
   * Puts credentials answering `challenge` (a 401 or 407 to `request`'s
   * predecessor) into `request`, replacing any earlier ones for the same
   * realm. The caller sends `request` as a new transaction (new branch, CSeq
   * + 1, RFC 3261 §22.2). The first challenge we can answer wins: servers list
   * them most preferred first (RFC 7616 §3.7, RFC 8760 §2.4).
   */
  authorize(request: SipRequest, challenge: SipResponse): DigestAnswer {
    const proxy = challenge.status === 407;
    const header = proxy ? 'Proxy-Authorization' : 'Authorization';
    const offered = challenge.headers.getLines(proxy ? 'proxy-authenticate' : 'www-authenticate');
    let refusal: DigestRefusal = 'unsupported';
    for (const value of offered) {
      const parsed = readChallenge(value);
      if (!parsed) continue;
      if (this.#credentials.realm !== undefined && parsed.realm !== this.#credentials.realm) {
        refusal = 'wrong_realm';
        continue;
      }
      const previous = this.#nonceCounts.get(parsed.nonce);
      // RFC 7616 §3.3: the same nonce challenged again (not stale) means our answer was wrong.
      if (previous !== undefined && parsed.stale !== true) {
        refusal = 'rejected';
        continue;
      }
      const nc = (previous ?? 0) + 1;
      this.#nonceCounts.set(parsed.nonce, nc);
      const credentials = answerDigestChallenge(parsed, {
        username: this.#credentials.username,
        password: this.#credentials.password,
        method: request.method,
        uri: request.requestUri,
        body: request.body,
        cnonce: this.#cnonce(),
        nc,
      });
      replaceForRealm(request, header, parsed.realm);
      request.headers.append(header, formatDigestCredentials(credentials));
      return { ok: true, header, realm: parsed.realm };
    }
    return { ok: false, reason: refusal };
  }
}

function readChallenge(value: string): DigestChallenge | undefined {
  try {
    const challenge = parseDigestChallenge(value);
    if (!SUPPORTED.has(challenge.algorithm)) return undefined;
    if (challenge.qop !== undefined && !challenge.qop.some((q) => q === 'auth' || q === 'auth-int'))
      return undefined;
    return challenge;
  } catch {
    // Another scheme (Bearer), or an algorithm digest.ts does not know.
    return undefined;
  }
}

/** Drops the credentials already in `request` for `realm` (a stale nonce answered again). */
function replaceForRealm(request: SipRequest, header: string, realm: string): void {
  const kept = request.headers.getLines(header).filter((line) => {
    try {
      return parseAuthHeader(line).params.get('realm') !== realm;
    } catch {
      return false;
    }
  });
  request.headers.delete(header);
  for (const line of kept) request.headers.append(header, line);
}
