import { describe, expect, it } from 'vitest';
import type { PinAttemptState, PinAttemptStore, PinLockoutPolicy } from '../store/index.js';
import { PinGuard } from './pin-guard.js';

const POLICY = { maxFailures: 3, delayMs: 1000, lockoutMs: 60_000 };

/** A store whose writes land when the test says (PostgreSQL answers after a round trip). */
class SlowStore implements PinAttemptStore {
  readonly rows = new Map<string, PinAttemptState>();
  readonly pending: (() => void)[] = [];

  get(subject: string): Promise<PinAttemptState | undefined> {
    return Promise.resolve(this.rows.get(subject));
  }

  fail(subject: string, at: number, policy: PinLockoutPolicy): Promise<PinAttemptState> {
    return new Promise((resolve) =>
      this.pending.push(() => {
        const failures = (this.rows.get(subject)?.failures ?? 0) + 1;
        const state: PinAttemptState = {
          failures,
          lastFailureAt: at,
          lockedUntil: failures >= policy.maxFailures ? at + policy.lockoutMs : null,
        };
        this.rows.set(subject, state);
        resolve(state);
      }),
    );
  }

  clear(subject: string): Promise<void> {
    return new Promise((resolve) =>
      this.pending.push(() => {
        this.rows.delete(subject);
        resolve();
      }),
    );
  }

  land(): void {
    for (const write of this.pending.splice(0)) write();
  }
}

describe('PinGuard', () => {
  it('keeps a subject reserved until its wrong PIN is counted in the store', async () => {
    const store = new SlowStore();
    const guard = new PinGuard({ store, now: () => 10_000 });
    const first = await guard.begin(['device:1'], POLICY);
    if (!first.ok) throw new Error('the first try was refused');
    const counted = first.attempt.failed();
    // The count is on its way: a second try now must not read the store before it.
    const second = await guard.begin(['device:1'], POLICY);
    expect(second).toMatchObject({ ok: false, subject: 'device:1', locked: false });
    store.land();
    expect(await counted).toEqual([]);
    // Counted: the next try waits out the delay after a wrong PIN.
    expect(await guard.begin(['device:1'], POLICY)).toMatchObject({ ok: false, locked: false });
    expect(store.rows.get('device:1')?.failures).toBe(1);
  });

  it('keeps a subject reserved until a right PIN has cleared its count', async () => {
    const store = new SlowStore();
    const guard = new PinGuard({ store, now: () => 10_000 });
    const first = await guard.begin(['resident:1'], POLICY);
    if (!first.ok) throw new Error('the first try was refused');
    const cleared = first.attempt.succeeded();
    expect(await guard.begin(['resident:1'], POLICY)).toMatchObject({ ok: false });
    store.land();
    await cleared;
    expect((await guard.begin(['resident:1'], POLICY)).ok).toBe(true);
  });
});
