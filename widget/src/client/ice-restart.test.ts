import { describe, expect, it, vi } from 'vitest';
import { watchIce, type IcePeer } from './ice-restart.js';

class FakePeer extends EventTarget implements IcePeer {
  iceConnectionState: RTCIceConnectionState = 'connected';
  set(state: RTCIceConnectionState): void {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }
}

function setUp() {
  vi.useFakeTimers();
  const peer = new FakePeer();
  const online = new EventTarget();
  let answer: (() => void) | undefined;
  const restart = vi.fn(
    () =>
      new Promise<void>((resolve) => {
        answer = resolve;
      }),
  );
  const stop = watchIce(peer, { restart, online });
  return { peer, online, restart, stop, answered: () => answer?.() };
}

describe('watchIce', () => {
  it('restarts ICE at once when it failed, one restart at a time', async () => {
    const { peer, restart, answered, stop } = setUp();
    peer.set('failed');
    peer.set('failed');
    expect(restart).toHaveBeenCalledTimes(1);
    answered();
    await vi.runAllTimersAsync();
    peer.set('failed');
    expect(restart).toHaveBeenCalledTimes(2);
    stop();
    vi.useRealTimers();
  });

  it('waits before restarting a disconnected connection, which often recovers', async () => {
    const { peer, restart, stop } = setUp();
    peer.set('disconnected');
    await vi.advanceTimersByTimeAsync(1000);
    peer.set('connected');
    await vi.advanceTimersByTimeAsync(2000);
    expect(restart).not.toHaveBeenCalled();
    peer.set('disconnected');
    await vi.advanceTimersByTimeAsync(1500);
    expect(restart).toHaveBeenCalledTimes(1);
    stop();
    vi.useRealTimers();
  });

  it('restarts when the page comes back online, and not after it was stopped', async () => {
    const { peer, online, restart, stop } = setUp();
    online.dispatchEvent(new Event('online'));
    expect(restart).toHaveBeenCalledTimes(1);
    stop();
    peer.set('failed');
    online.dispatchEvent(new Event('online'));
    expect(restart).toHaveBeenCalledTimes(1);
    vi.useRealTimers();
  });
});
