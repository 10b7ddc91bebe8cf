/**
 * Password guessing, per account (the digest username), whatever the source
 * address: a distributed guesser gains nothing by spreading over many
 * addresses. After `backoffAfter` failures in a row, the next attempt is
 * taken only once a wait has passed (1 s, doubling, at most 60 s); attempts
 * during the wait are refused unchecked. After `lockoutAfter` failures the
 * account is locked for `lockoutMs`: every attempt is refused, the right
 * password too, until it ends. Unknown usernames are tracked like known ones,
 * so the answers do not tell them apart. Memory is bounded (`maxAccounts`,
 * the oldest entry goes first).
 */
export interface AccountGuardOptions {
  readonly backoffAfter: number;
  readonly lockoutAfter: number;
  readonly lockoutMs: number;
  readonly maxAccounts?: number;
}

export type AccountState = 'open' | 'backoff' | 'locked';

interface Failures {
  count: number;
  lastAt: number;
  lockedUntil: number;
}

const MAX_WAIT_MS = 60_000;
/** Failures older than this are forgotten (a phone with an old password, now fixed). */
const FORGET_MS = 60 * 60_000;

export class AccountGuard {
  readonly #o: Required<AccountGuardOptions>;
  readonly #failures = new Map<string, Failures>();

  constructor(options: AccountGuardOptions) {
    this.#o = { maxAccounts: 100_000, ...options };
  }

  /** Whether an attempt for `account` is checked at all now. */
  state(account: string, now: number): AccountState {
    const entry = this.#failures.get(account);
    if (!entry) return 'open';
    if (entry.lockedUntil > now) return 'locked';
    if (entry.lockedUntil > 0) {
      // A lockout that ended starts the account afresh.
      this.#failures.delete(account);
      return 'open';
    }
    if (entry.count < this.#o.backoffAfter) return 'open';
    const wait = Math.min(MAX_WAIT_MS, 1000 * 2 ** (entry.count - this.#o.backoffAfter));
    return now - entry.lastAt < wait ? 'backoff' : 'open';
  }

  /** Counts a failed attempt; true when it locked the account. */
  failed(account: string, now: number): boolean {
    let entry = this.#failures.get(account);
    if (entry && now - entry.lastAt > FORGET_MS) entry = undefined;
    if (!entry) {
      if (this.#failures.size >= this.#o.maxAccounts) {
        const oldest = this.#failures.keys().next();
        if (!oldest.done) this.#failures.delete(oldest.value);
      }
      entry = { count: 0, lastAt: now, lockedUntil: 0 };
    }
    this.#failures.delete(account);
    this.#failures.set(account, entry);
    entry.count += 1;
    entry.lastAt = now;
    if (entry.count >= this.#o.lockoutAfter && entry.lockedUntil === 0) {
      entry.lockedUntil = now + this.#o.lockoutMs;
      return true;
    }
    return false;
  }

  succeeded(account: string): void {
    this.#failures.delete(account);
  }

  /** Forgets what no longer matters (ended lockouts, old failures). */
  sweep(now: number): void {
    for (const [account, entry] of this.#failures) {
      const ended = entry.lockedUntil > 0 && entry.lockedUntil <= now;
      if (ended || (entry.lockedUntil === 0 && now - entry.lastAt > FORGET_MS))
        this.#failures.delete(account);
    }
  }
}
