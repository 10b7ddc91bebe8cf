import { describe, expect, it, vi } from 'vitest';
import { MicrophonePermission, type MicrophoneState } from './microphone-permission.js';
import { FakePermissionStatus } from './testing/fakes.js';

function watched(query: (() => Promise<FakePermissionStatus>) | undefined) {
  const seen: MicrophoneState[] = [];
  const permission = new MicrophonePermission(query, (state) => seen.push(state));
  return { permission, seen };
}

describe('MicrophonePermission', () => {
  it('reads the state once, reports it, and follows every change until closed', async () => {
    const status = new FakePermissionStatus('prompt');
    const query = vi.fn(async () => status);
    const { permission, seen } = watched(query);
    expect(permission.state).toBeUndefined();
    expect(await permission.watch()).toBe('prompt');
    expect(await permission.watch()).toBe('prompt');
    expect(query).toHaveBeenCalledTimes(1);
    expect(status.listeners).toBe(1);

    status.set('denied');
    expect(permission.state).toBe('denied');
    status.set('denied'); // no change, no report
    status.set('granted');
    status.set('not-a-state'); // ignored: the last known state stays
    expect(permission.state).toBe('granted');
    expect(seen).toEqual(['prompt', 'denied', 'granted']);

    permission.close();
    expect(status.listeners).toBe(0);
    status.set('denied');
    expect(seen).toEqual(['prompt', 'denied', 'granted']);
  });

  it('stays unknown, and never rejects, where the browser cannot tell', async () => {
    // No navigator.permissions: the query throws before it returns a promise.
    const throwing = watched(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'query')");
    });
    expect(await throwing.permission.watch()).toBeUndefined();
    // Older Firefox: `microphone` is not a permission name it knows.
    const rejecting = watched(() => Promise.reject(new TypeError("'microphone' is not a valid")));
    expect(await rejecting.permission.watch()).toBeUndefined();
    // No query given at all (tests, other hosts).
    const none = watched(undefined);
    expect(await none.permission.watch()).toBeUndefined();
    expect([...throwing.seen, ...rejecting.seen, ...none.seen]).toEqual([]);
  });

  it('does not start watching when closed before the answer came', async () => {
    const status = new FakePermissionStatus('denied');
    let answer: (s: FakePermissionStatus) => void = () => undefined;
    const { permission, seen } = watched(() => new Promise((resolve) => (answer = resolve)));
    const watching = permission.watch();
    permission.close();
    answer(status);
    expect(await watching).toBeUndefined();
    expect(status.listeners).toBe(0);
    expect(seen).toEqual([]);
  });
});
