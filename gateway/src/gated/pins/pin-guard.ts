/**
 * Brute-force protection for PINs: per subject (a device, a resident, an
 * account), each wrong PIN makes the next try wait (`delayMs`, doubling with
 * every failure in a row), and `maxFailures` in a row lock the subject for
 * `lockoutMs`. While a subject waits or is locked, a PIN is not even checked.
 * One try per subject at a time on this gateway: a second one while the
 * first is being checked (scrypt takes tens of ms) is refused, so parallel
 * guesses do not slip past the count. Counts live in the store, so a restart
 * does not reset a lockout, and on PostgreSQL every gateway reads the same
 * ones: a wrong PIN is counted in one statement (`PinAttemptStore.fail`), so
 * two gateways counting at once both count and a lockout holds on all. (Two
 * tries of one subject on two gateways at the very same moment are both
 * checked; both count.) A right PIN clears them.
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
  succeeded(): Promise<void>;
  /** Counts the failure on every subject; answers the subjects it locked. */
  failed(): Promise<string[]>;
  /** Neither (the PIN was not checked after all): frees the subjects. */
  abandon(): void;
}

export interface PinGuardOptions {
  readonly store: PinAttemptStore;
  readonly now: () => number;
  readonly onFailure?: (subject: string) => void;
  readonly onLockout?: (subject: string, until: number) => void;
}

type Refused = Extract<PinGateAnswer, { ok: false }>;

export class PinGuard {
  readonly #o: PinGuardOptions;
  readonly #inFlight = new Set<string>();

  constructor(options: PinGuardOptions) {
    this.#o = options;
  }

  /** Reserves a try for all `subjects`, or says which one refuses and for how long. */
  async begin(subjects: readonly string[], policy: PinPolicy): Promise<PinGateAnswer> {
    // Reserved before the store is read, so a second try here waits for this one's count.
    const busy = subjects.find((s) => this.#inFlight.has(s));
    if (busy !== undefined)
      return {
        ok: false,
        subject: busy,
        locked: false,
        retryAfterMs: Math.max(policy.delayMs, 1000),
      };
    const reserved = [...new Set(subjects)];
    for (const subject of reserved) this.#inFlight.add(subject);
    let settled = false;
    const release = () => {
      settled = true;
      for (const subject of reserved) this.#inFlight.delete(subject);
    };
    let refused: Refused | undefined;
    try {
      refused = await this.#refusal(subjects, policy);
    } catch (error) {
      release();
      throw error;
    }
    if (refused) {
      release();
      return refused;
    }
    return {
      ok: true,
      attempt: {
        // The subjects stay reserved until the store has the outcome: a try that reads the
        // store before this one's count landed (PostgreSQL answers later) would slip past it.
        succeeded: async () => {
          if (settled) return;
          settled = true;
          try {
            await Promise.all(reserved.map((subject) => this.#o.store.clear(subject)));
          } finally {
            release();
          }
        },
        failed: async () => {
          if (settled) return [];
          settled = true;
          const at = this.#o.now();
          const lockout = { maxFailures: policy.maxFailures, lockoutMs: policy.lockoutMs };
          let states: Awaited<ReturnType<PinAttemptStore['fail']>>[];
          try {
            states = await Promise.all(
              reserved.map((subject) => this.#o.store.fail(subject, at, lockout)),
            );
          } finally {
            release();
          }
          const locked: string[] = [];
          reserved.forEach((subject, i) => {
            this.#o.onFailure?.(subject);
            const until = states[i]?.lockedUntil ?? null;
            if (until !== null) {
              locked.push(subject);
              this.#o.onLockout?.(subject, until);
            }
          });
          return locked;
        },
        abandon: () => {
          if (!settled) release();
        },
      },
    };
  }

  /** The first subject that takes no PIN now (locked, or waiting after a wrong one). */
  async #refusal(subjects: readonly string[], policy: PinPolicy): Promise<Refused | undefined> {
    const states = await Promise.all(subjects.map((subject) => this.#o.store.get(subject)));
    const now = this.#o.now();
    for (const [i, subject] of subjects.entries()) {
      const state = states[i];
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
    return undefined;
  }
}

export const pinSubject = {
  device: (tenant: string, address: string) => `device:${tenant}/${address}`,
  resident: (tenant: string, id: string) => `resident:${tenant}/${id}`,
  account: (tenant: string, id: string) => `account:${tenant}/${id}`,
};
