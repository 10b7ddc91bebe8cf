import { describe, expect, it } from 'vitest';
import type { ReactiveControllerHost } from 'lit';
import type {
  CallClientApi,
  CallClientEvents,
  CallStack,
  CallStateChange,
} from '../api/call-stack.js';
import type { CallState } from '../api/call-state.js';
import { MessageRejectedError } from '../api/message-rejected-error.js';
import { Emitter } from '../client/emitter.js';
import { CallController } from './call-controller.js';
import { FakeHost } from './testing/fake-host.js';

/** A client the test moves by hand. */
class ScriptedClient implements CallClientApi {
  readonly events = new Emitter<CallClientEvents>();
  state: CallState = 'idle';
  muted = false;
  connectedAt: number | undefined;
  hungUp = 0;
  call = async (): Promise<void> => this.move({ state: 'permission' });
  hangup = async (): Promise<void> => {
    this.hungUp++;
    this.move({ state: 'ended' });
  };
  send = async (text: string | object) =>
    ({ type: 'chat', id: 'v1', at: 'now', text: String(text) }) as const;
  sendDtmf = async (): Promise<void> => undefined;
  setMuted(muted: boolean): void {
    this.muted = muted;
  }
  on<K extends keyof CallClientEvents>(event: K, listener: (...args: CallClientEvents[K]) => void) {
    return this.events.on(event, listener);
  }
  dispose(): void {
    this.events.clear(); // as the CallClientApi says: every listener dropped
  }
  move(change: CallStateChange): void {
    this.state = change.state;
    this.events.emit('state', change);
  }
}

function setup(load?: () => Promise<CallStack>) {
  const host = new FakeHost();
  const client = new ScriptedClient();
  let loads = 0;
  const controller = new CallController(host as unknown as ReactiveControllerHost & HTMLElement, {
    load:
      load ??
      (async () => {
        loads++;
        return { createCallClient: () => client };
      }),
    options: () => ({ tokenUrl: '/t', queue: 'sales' }),
  });
  const fired = (type: string) => host.events.filter((e) => e.type === type).map((e) => e.detail);
  return { host, client, controller, fired, loads: () => loads };
}

describe('CallController', () => {
  it('answers a click at once, then follows the client, firing bubbling, composed DOM events', async () => {
    const t = setup();
    const calling = t.controller.call();
    expect(t.controller.state).toBe('permission'); // before the stack has loaded
    await calling;
    t.client.move({ state: 'connecting' });
    t.client.move({ state: 'ringing' });
    t.client.move({ state: 'in-call' });
    expect(t.fired('parley-state')).toEqual([
      { state: 'permission' },
      { state: 'connecting' },
      { state: 'ringing' },
      { state: 'in-call' },
    ]);
    expect(t.host.events.every((e) => e.bubbles && e.composed)).toBe(true);
  });

  it('keeps the microphone permission the call stack read on hover (re-rendering), without firing any event', async () => {
    const t = setup();
    t.controller.prefetch();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(t.controller.microphone).toBeUndefined();
    const updates = t.host.updates;
    t.client.events.emit('permission', 'denied');
    expect(t.controller.microphone).toBe('denied');
    expect(t.host.updates).toBe(updates + 1);
    t.client.events.emit('permission', 'granted');
    expect(t.controller.microphone).toBe('granted');
    expect(t.controller.state).toBe('idle');
    expect(t.host.events).toEqual([]); // a hover is no call: no parley-state, no parley-error
  });

  it('fires parley-error with the code and the human text', async () => {
    const t = setup();
    await t.controller.call();
    t.client.move({
      state: 'error',
      code: 'expired',
      message: 'dev',
      human: 'This call link has expired.',
    });
    expect(t.fired('parley-state').at(-1)).toEqual({ state: 'error', code: 'expired' });
    expect(t.fired('parley-error')).toEqual([
      { code: 'expired', message: 'dev', human: 'This call link has expired.' },
    ]);
    expect(t.controller.error?.human).toBe('This call link has expired.');
  });

  it('fires parley-message for received messages and keeps chat in the panel', async () => {
    const t = setup();
    await t.controller.call();
    t.client.move({ state: 'in-call' });
    const message = { type: 'chat', id: 'a1', at: 'now', text: 'Hi there' } as const;
    t.client.events.emit('message', message);
    await t.controller.send('Hello');
    expect(t.fired('parley-message')).toEqual([{ message }]);
    expect(t.controller.chat).toEqual([
      { id: 'a1', from: 'agent', text: 'Hi there' },
      { id: 'v1', from: 'visitor', text: 'Hello' },
    ]);
  });

  it('shows the agent putting the call on hold and back, and fires parley-hold', async () => {
    const t = setup();
    await t.controller.call();
    t.client.move({ state: 'in-call' });
    const hold = (held: boolean) =>
      t.client.events.emit('notice', { type: 'notice', code: 'hold', held, reason: 'x' });
    hold(true);
    hold(true); // said twice: once is enough
    expect(t.controller.held).toBe(true);
    hold(false);
    expect(t.controller.held).toBe(false);
    expect(t.fired('parley-hold')).toEqual([{ held: true }, { held: false }]);
    expect(t.controller.chat.map((c) => [c.from, c.text])).toEqual([
      ['notice', 'The agent put you on hold.'],
      ['notice', 'The agent is back.'],
    ]);
    hold(true);
    t.client.move({ state: 'ended' });
    expect(t.controller.held).toBe(false);
  });

  it('keeps the place in the queue the gateway sends, fires parley-queue, and forgets it when the wait is over', async () => {
    const t = setup();
    await t.controller.call();
    t.client.move({ state: 'in-call' });
    const at = '2030-01-01T00:00:00.000Z';
    t.client.events.emit('queue', {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 2,
      estimatedWaitSeconds: 90,
      at,
    });
    expect(t.controller.queue).toMatchObject({ position: 2, estimatedWaitSeconds: 90 });
    t.client.events.emit('queue', {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 1,
      estimatedWaitSeconds: 45,
      at,
    });
    t.client.events.emit('queue', { type: 'queue', state: 'connecting', queue: 'sales', at });
    expect(t.controller.queue?.state).toBe('connecting');
    t.client.events.emit('queue', {
      type: 'queue',
      state: 'left',
      queue: 'sales',
      reason: 'answered',
      at,
    });
    expect(t.controller.queue).toBeUndefined();
    expect(t.fired('parley-queue')).toEqual([
      { state: 'waiting', queue: 'sales', position: 2, estimatedWaitSeconds: 90 },
      { state: 'waiting', queue: 'sales', position: 1, estimatedWaitSeconds: 45 },
      { state: 'connecting', queue: 'sales' },
      { state: 'left', queue: 'sales', reason: 'answered' },
    ]);
    t.client.events.emit('queue', {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 4,
      estimatedWaitSeconds: null,
      at,
    });
    t.client.move({ state: 'ended' });
    expect(t.controller.queue).toBeUndefined();
  });

  it('keeps a place in the queue that came while the call rang (answered early), and shows it in-call', async () => {
    const t = setup();
    await t.controller.call();
    t.client.move({ state: 'ringing' });
    const at = '2030-01-01T00:00:00.000Z';
    t.client.events.emit('queue', {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 1,
      at,
    });
    t.client.move({ state: 'in-call' });
    expect(t.controller.queue).toMatchObject({ state: 'waiting', position: 1 });
    t.client.move({ state: 'ended' });
    expect(t.controller.queue).toBeUndefined();
  });

  it('keeps a voicemail notice that came while the call rang (answered early)', async () => {
    const t = setup();
    await t.controller.call();
    t.client.move({ state: 'ringing' });
    t.client.events.emit('notice', {
      type: 'notice',
      code: 'voicemail',
      recording: true,
      reason: 'no-answer',
    });
    t.client.move({ state: 'in-call' });
    expect(t.controller.voicemail).toBe(true);
  });

  it('loads the call stack once, on prefetch', async () => {
    const t = setup();
    t.controller.prefetch();
    t.controller.prefetch();
    await t.controller.call();
    expect(t.loads()).toBe(1);
  });

  it("in view, loads the call stack's code only: no client, so no token, WebSocket or permission read", async () => {
    const host = new FakeHost();
    let loads = 0;
    let clients = 0;
    let prefetches = 0;
    const client = new ScriptedClient();
    const controller = new CallController(host as unknown as ReactiveControllerHost & HTMLElement, {
      load: async () => {
        loads++;
        return {
          createCallClient: () => {
            clients++;
            return Object.assign(client, { prefetch: () => void prefetches++ });
          },
        };
      },
      options: () => ({ tokenUrl: '/t', queue: 'sales' }),
    });
    controller.prefetch(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect([loads, clients, prefetches]).toEqual([1, 0, 0]);
    controller.prefetch(); // the hover after it: the client, warmed, from the same load
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect([loads, clients, prefetches]).toEqual([1, 1, 1]);
    expect(host.events).toEqual([]);
  });

  it('reports call_failed when the call stack does not load, and tries again on the next click', async () => {
    let fail = true;
    const client = new ScriptedClient();
    const t = setup(async () => {
      if (fail) throw new TypeError('Failed to fetch dynamically imported module');
      return { createCallClient: () => client };
    });
    await t.controller.call();
    expect(t.fired('parley-error')).toMatchObject([{ code: 'call_failed' }]);
    fail = false;
    await t.controller.call();
    expect(t.controller.state).toBe('permission');
  });

  it('does not start a call hung up while the stack was loading', async () => {
    let release: (stack: CallStack) => void = () => undefined;
    const t = setup(() => new Promise((resolve) => (release = resolve)));
    const calling = t.controller.call();
    await t.controller.hangup();
    release({ createCallClient: () => t.client });
    await calling;
    expect(t.controller.state).toBe('ended');
    expect(t.client.state).toBe('idle');
  });

  it('rejects send() before any call with a typed error', async () => {
    const t = setup();
    await expect(t.controller.send('Hi')).rejects.toBeInstanceOf(MessageRejectedError);
  });

  it('hangs up when the element leaves the page', async () => {
    const t = setup();
    await t.controller.call();
    t.host.isConnected = false;
    t.controller.hostDisconnected();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(t.client.hungUp).toBe(1);
  });
});
