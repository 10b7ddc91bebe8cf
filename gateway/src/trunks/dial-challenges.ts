/**
 * The carrier's digest challenges to an outbound trunk INVITE: a 401 or 407 is
 * answered with the trunk's credentials (`DigestClient`) in a new INVITE, CSeq
 * + 1, same Call-ID, From tag and body, new branch (RFC 3261 §22.2); the
 * transaction layer ACKs the challenge itself (§17.1.1.3). A trunk without
 * credentials, credentials refused, or more than `MAX_CHALLENGES` challenges
 * from one peer end the call `auth_failed`.
 */
import type { DigestClient } from '../sip/digest-client.js';
import type { SipRequest, SipResponse } from '../sip/index.js';
import { nextInvite } from './outbound-invite.js';

/** Challenges answered per peer before the credentials count as refused. */
const MAX_CHALLENGES = 3;

export type ChallengeAnswer =
  /** `retry` carries the credentials: send it as a new transaction to the same peer. */
  | { readonly ok: true; readonly retry: SipRequest; readonly realm: string }
  /** Not answered: `detail` says why (the failure's detail). */
  | { readonly ok: false; readonly detail: string };

export class DialChallenges {
  readonly #digest: DigestClient | undefined;
  readonly #onChallenge: ((status: 401 | 407, answered: boolean) => void) | undefined;
  #count = 0;

  constructor(
    digest: DigestClient | undefined,
    onChallenge: ((status: 401 | 407, answered: boolean) => void) | undefined,
  ) {
    this.#digest = digest;
    this.#onChallenge = onChallenge;
  }

  /** A new peer is tried: its challenges count from zero. */
  reset(): void {
    this.#count = 0;
  }

  /** The INVITE to send again after `invite` was challenged with `response`. */
  answer(invite: SipRequest, response: SipResponse, status: 401 | 407): ChallengeAnswer {
    const digest = this.#digest;
    this.#count += 1;
    if (!digest || this.#count > MAX_CHALLENGES) {
      this.#onChallenge?.(status, false);
      return {
        ok: false,
        detail: digest ? 'challenged too often' : 'challenged but the trunk has no auth',
      };
    }
    const retry = nextInvite(invite);
    const answer = digest.authorize(retry, response);
    this.#onChallenge?.(status, answer.ok);
    if (!answer.ok) return { ok: false, detail: `challenge ${answer.reason}` };
    return { ok: true, retry, realm: answer.realm };
  }
}
