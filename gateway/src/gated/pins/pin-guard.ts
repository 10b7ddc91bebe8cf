/**
 * Brute-force protection for PINs: per subject (a device, a resident, an
 * account), each wrong PIN makes the next try wait (`delayMs`, doubling with
 * every failure in a row), and `maxFailures` in a row lock the subject for
 * `lockoutMs`. While a subject waits or is locked, a PIN is not even checked.
 * One try per subject at a time: a second one while the first is being
 * checked (scrypt takes tens of ms) is refused, so parallel guesses do not
 * slip past the count. Counts live in the store, so a restart does not reset
 * a lockout; a right PIN clears them.
 */
import type { PinAttemptStore } from '../store/index.js';

export interface PinPolicy {
  readonly maxFailures: number;
  readonly delayMs: number;
  readonly lockoutMs: number;
}

export type PinGateAnswer =
  | { readonly ok: true; readonly attempt: PinAttempt }
  | {
      readonly ok: false;
      /** The subject that refused (`device:…`, `resident:…`, `account:…`). */
      readonly subject: string;
      /** Locked out (true), or waiting after a wrong PIN / another try in flight (false). */
      readonly locked: boolean;
      readonly retryAfterMs: number;
    };

/** A reserved try: say how it went, once. */
export interface PinAttempt {
  succeeded(): void;
  /** Counts the failure on every subject; answers the subjects it locked. */
  failed(): string[];
  /** Neither (the PIN was not checked after all): frees the subjects. */
  abandon(): void;
}

export interface PinGuardOptions {
  readonly store: PinAttemptStore;
  readonly now: () => number;
  readonly onFailure?: (subject: string) => void;
  readonly onLockout?: (subject: string, until: number) => void;
}

export class PinGuard {
  readonly #o: PinGuardOptions;
  readonly #inFlight = new Set<string>();

  constructor(options: PinGuardOptions) {
    this.#o = options;
  }

  /** Reserves a try for all `subjects`, or says which one refuses and for how long. */
  begin(subjects: readonly string[], policy: PinPolicy): PinGateAnswer {
    const now = this.#o.now();
    for (const subject of subjects) {
      if (this.#inFlight.has(subject))
        return { ok: false, subject, locked: false, retryAfterMs: Math.max(policy.delayMs, 1000) };
      const state = this.#o.store.get(subject);
      if (!state) continue;
      if (state.lockedUntil !== null) {
        if (state.lockedUntil > now)
          return { ok: false, subject, locked: true, retryAfterMs: state.lockedUntil - now };
        continue; // the lockout is over: counting starts again
      }
      const wait = Math.min(policy.delayMs * 2 ** (state.failures - 1), policy.lockoutMs);
      if (now < state.lastFailureAt + wait)
        return {
          ok: false,
          subject,
          locked: false,
          retryAfterMs: state.lastFailureAt + wait - now,
        };
    }
    const reserved = [...new Set(subjects)];
    for (const subject of reserved) this.#inFlight.add(subject);
    let settled = false;
    const release = () => {
      settled = true;
      for (const subject of reserved) this.#inFlight.delete(subject);
    };
    return {
      ok: true,
      attempt: {
        succeeded: () => {
          if (settled) return;
          release();
          for (const subject of reserved) this.#o.store.clear(subject);
        },
        failed: () => {
          if (settled) return [];
          release();
          const at = this.#o.now();
          const locked: string[] = [];
          for (const subject of reserved) {
            const state = this.#o.store.get(subject);
            const fresh = !state || (state.lockedUntil !== null && state.lockedUntil <= at);
            const failures = (fresh ? 0 : state.failures) + 1;
            const lockedUntil = failures >= policy.maxFailures ? at + policy.lockoutMs : null;
            this.#o.store.put(subject, { failures, lastFailureAt: at, lockedUntil });
            this.#o.onFailure?.(subject);
            if (lockedUntil !== null) {
              locked.push(subject);
              this.#o.onLockout?.(subject, lockedUntil);
            }
          }
          return locked;
        },
        abandon: () => {
          if (!settled) release();
        },
      },
    };
  }
}

export const pinSubject = {
  device: (tenant: string, address: string) => `device:${tenant}/${address}`,
  resident: (tenant: string, id: string) => `resident:${tenant}/${id}`,
  account: (tenant: string, id: string) => `account:${tenant}/${id}`,
};
