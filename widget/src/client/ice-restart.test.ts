import { describe, expect, it, vi } from 'vitest';
import { statsProbe, watchIce, type IcePeer, type PathSample } from './ice-restart.js';

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

  it('restarts when the path looks dead in the stats (check unanswered, no audio) for a second, before ICE says so', async () => {
    vi.useFakeTimers();
    const peer = new FakePeer();
    let sample: PathSample = { checkPending: false, packetsReceived: 0 };
    const restart = vi.fn(() => Promise.resolve());
    const stop = watchIce(peer, { restart, probe: () => Promise.resolve(sample) });
    const flowing = async (ms: number) => {
      for (let t = 0; t < ms; t += 250) {
        sample = { ...sample, packetsReceived: sample.packetsReceived + 12 };
        await vi.advanceTimersByTimeAsync(250);
      }
    };
    await flowing(1000);
    // A check pending while audio flows (a slow answer): not dead.
    sample = { ...sample, checkPending: true };
    await flowing(2000);
    // Silence (the agent on hold, DTX) while checks are answered: not dead.
    sample = { ...sample, checkPending: false };
    await vi.advanceTimersByTimeAsync(3000);
    expect(restart).not.toHaveBeenCalled();
    // The address went: checks unanswered and no audio, ICE still "connected".
    sample = { ...sample, checkPending: true };
    await vi.advanceTimersByTimeAsync(750);
    expect(restart).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(250);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(peer.iceConnectionState).toBe('connected');
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(restart).toHaveBeenCalledTimes(1);
    vi.useRealTimers();
  });

  it('statsProbe reads the selected pair and the audio received from getStats()', async () => {
    const report = (stats: Record<string, unknown>[]) => ({
      getStats: () =>
        Promise.resolve(new Map(stats.map((s) => [s.id, s])) as unknown as RTCStatsReport),
    });
    const stats = [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', state: 'succeeded' },
      { id: 'P2', type: 'candidate-pair', state: 'in-progress' },
      { id: 'V', type: 'inbound-rtp', kind: 'video', packetsReceived: 99 },
      { id: 'A', type: 'inbound-rtp', kind: 'audio', packetsReceived: 41 },
    ];
    expect(await statsProbe(report(stats))()).toEqual({ checkPending: true, packetsReceived: 41 });
    // Firefox marks the pair itself.
    const firefox = [{ id: 'P', type: 'candidate-pair', state: 'succeeded', selected: true }];
    expect(await statsProbe(report(firefox))()).toEqual({
      checkPending: false,
      packetsReceived: 0,
    });
    expect(await statsProbe(report([]))()).toBeUndefined();
  });
});
