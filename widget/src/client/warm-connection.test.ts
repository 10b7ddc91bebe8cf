import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeStack, fakeMicrophone } from './testing/fakes.js';
import { WARM_CONNECTION_MS, WarmConnection } from './warm-connection.js';

const CONFIG = {
  ok: true as const,
  server: 'ws://127.0.0.1:5080/sip',
  iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }],
  relayOnly: false,
};
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('WarmConnection', () => {
  afterEach(() => vi.useRealTimers());

  it('opens one WebSocket ahead and hands it to one call with its microphone and disconnect handler', async () => {
    const sip = new FakeStack();
    const warm = new WarmConnection(sip);
    warm.open(CONFIG);
    warm.open(CONFIG);
    expect(sip.userAgents).toHaveLength(1);
    await flush();
    expect(sip.userAgent.started).toBe(true);
    const mic = fakeMicrophone();
    const onDisconnect = vi.fn();
    const taken = warm.take(CONFIG, { microphone: async () => mic.stream, onDisconnect });
    expect(taken?.userAgent).toBe(sip.userAgent);
    await taken?.started;
    expect(await sip.userAgent.microphone()).toBe(mic.stream);
    sip.userAgent.disconnect();
    expect(onDisconnect).toHaveBeenCalledTimes(1);
    expect(sip.userAgent.stopped).toBe(false); // the call's to handle now
    expect(warm.take(CONFIG, { microphone: async () => mic.stream, onDisconnect })).toBeUndefined();
  });

  it('gives nothing for another gateway or other ICE servers, and closes the one it held', () => {
    const sip = new FakeStack();
    const warm = new WarmConnection(sip);
    warm.open(CONFIG);
    const hooks = {
      microphone: () => Promise.reject(new Error('unused')),
      onDisconnect: () => undefined,
    };
    expect(warm.take({ ...CONFIG, iceServers: [] }, hooks)).toBeUndefined();
    expect(sip.userAgent.stopped).toBe(true);
  });

  it('drops a WebSocket that closed before the click, and one nobody took in time', async () => {
    vi.useFakeTimers();
    const sip = new FakeStack();
    const warm = new WarmConnection(sip);
    const hooks = {
      microphone: () => Promise.reject(new Error('unused')),
      onDisconnect: () => undefined,
    };
    warm.open(CONFIG);
    sip.userAgent.disconnect();
    expect(sip.userAgent.stopped).toBe(true);
    expect(warm.take(CONFIG, hooks)).toBeUndefined();

    warm.open(CONFIG);
    await vi.advanceTimersByTimeAsync(WARM_CONNECTION_MS - 1);
    expect(sip.userAgent.stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(sip.userAgent.stopped).toBe(true);
    expect(warm.take(CONFIG, hooks)).toBeUndefined();
  });

  it('drops one whose WebSocket could not open', async () => {
    const sip = new FakeStack();
    sip.startError = new Error('refused');
    const warm = new WarmConnection(sip);
    warm.open(CONFIG);
    await flush();
    expect(sip.userAgent.stopped).toBe(true);
    const hooks = {
      microphone: () => Promise.reject(new Error('unused')),
      onDisconnect: () => undefined,
    };
    expect(warm.take(CONFIG, hooks)).toBeUndefined();
  });
});
