import { describe, expect, it } from 'vitest';
import { AccountGuard } from './account-guard.js';

describe('AccountGuard', () => {
  it('backs off after backoffAfter failures, doubling the wait, and locks after lockoutAfter', () => {
    const guard = new AccountGuard({ backoffAfter: 2, lockoutAfter: 4, lockoutMs: 60_000 });
    let now = 0;
    expect(guard.failed('ada', now)).toBe(false);
    expect(guard.state('ada', now)).toBe('open');
    expect(guard.failed('ada', now)).toBe(false);
    // Two failures: the next attempt waits 1 s.
    expect(guard.state('ada', now + 999)).toBe('backoff');
    now += 1000;
    expect(guard.state('ada', now)).toBe('open');
    expect(guard.failed('ada', now)).toBe(false);
    // Three: 2 s.
    expect(guard.state('ada', now + 1999)).toBe('backoff');
    now += 2000;
    expect(guard.failed('ada', now)).toBe(true);
    expect(guard.state('ada', now + 59_999)).toBe('locked');
    // Other accounts are not touched.
    expect(guard.state('bob', now)).toBe('open');
    // The lockout ends, and the account starts afresh.
    expect(guard.state('ada', now + 60_000)).toBe('open');
    expect(guard.failed('ada', now + 60_000)).toBe(false);
    expect(guard.state('ada', now + 60_000)).toBe('open');
  });

  it('forgets failures on success, and keeps its table bounded', () => {
    const guard = new AccountGuard({
      backoffAfter: 1,
      lockoutAfter: 10,
      lockoutMs: 1000,
      maxAccounts: 3,
    });
    guard.failed('ada', 0);
    expect(guard.state('ada', 0)).toBe('backoff');
    guard.succeeded('ada');
    expect(guard.state('ada', 0)).toBe('open');
    for (const name of ['a', 'b', 'c', 'd']) guard.failed(name, 0);
    // 'a' was the oldest: dropped to make room.
    expect(guard.state('a', 0)).toBe('open');
    expect(guard.state('d', 0)).toBe('backoff');
  });
});
