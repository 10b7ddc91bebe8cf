/**
 * The page going away mid-call (`page-hide.ts`): the CallClient hangs up its
 * active call on `pagehide`, a BYE once answered, a CANCEL while ringing, sent
 * within the event's microtasks (the page may be gone by the next task); the
 * listener is there only while a call is active.
 */
import { describe, expect, it, vi } from 'vitest';
import type { CallState } from '../api/call-state.js';
import { CallClient } from './call-client.js';
import type { FetchLike } from './call-token.js';
import { hangUpOnPageHide } from './page-hide.js';
import { FakeStack, fakeMicrophone, json } from './testing/fakes.js';

/** The window, with its `pagehide` listeners seen (adding one twice adds it once). */
class FakeWindow extends EventTarget {
  readonly #hide = new Set<EventListener | null>();
  get listeners(): number {
    return this.#hide.size;
  }
  override addEventListener(type: string, listener: EventListener | null): void {
    if (type === 'pagehide') this.#hide.add(listener);
    super.addEventListener(type, listener);
  }
  override removeEventListener(type: string, listener: EventListener | null): void {
    if (type === 'pagehide') this.#hide.delete(listener);
    super.removeEventListener(type, listener);
  }
  /** The tab closes or the page navigates (`persisted`: into the back-forward cache). */
  hide(persisted = false): void {
    this.dispatchEvent(Object.assign(new Event('pagehide'), { persisted }));
  }
}

function setup() {
  const sip = new FakeStack();
  const fetch = vi.fn<FetchLike>(async () =>
    json(200, {
      token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      expiresAt: '2030-01-01T01:00:00Z',
      claims: {},
      gateway: { url: 'http://127.0.0.1:5080' },
    }),
  );
  const client = new CallClient(
    { tokenUrl: '/api/call-token', queue: 'sales' },
    {
      sip,
      getUserMedia: async () => fakeMicrophone().stream,
      fetch,
      ringback: () => ({ start: () => undefined, stop: () => undefined }),
      baseUrl: 'https://shop.example/',
      now: () => 1000,
      wallClock: () => Date.UTC(2030, 0, 1),
      newId: () => 'm1',
    },
  );
  const page = new FakeWindow();
  hangUpOnPageHide(client, page);
  const states: CallState[] = [];
  client.on('state', ({ state }) => states.push(state));
  return { client, sip, page, states };
}

/** Only the microtasks queued so far and those they queue: no timer, no I/O. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('the page going away mid-call', () => {
  it.each([false, true])(
    'hangs up an answered call with a BYE within the pagehide (persisted: %s)',
    async (persisted) => {
      const t = setup();
      expect(t.page.listeners).toBe(0); // no call, no listener: the window holds no idle client
      await t.client.call();
      const session = t.sip.userAgent.session;
      session.progress(180);
      session.accept();
      expect(t.client.state).toBe('in-call');
      expect(t.page.listeners).toBe(1);

      t.page.hide(persisted);
      await microtasks();
      expect(session.byes).toBe(1);
      expect(t.states.at(-1)).toBe('ended');
      expect(t.page.listeners).toBe(0);
    },
  );

  it('cancels a call that is ringing', async () => {
    const t = setup();
    await t.client.call();
    const session = t.sip.userAgent.session;
    session.progress(180);
    expect(t.client.state).toBe('ringing');
    t.page.hide();
    await microtasks();
    expect(session.cancelled).toBe(1);
    expect(session.byes).toBe(0);
    expect(t.states.at(-1)).toBe('ended');
  });

  it('takes its listener away when the call ends by itself, and leaves a next call its own', async () => {
    const t = setup();
    await t.client.call();
    const first = t.sip.userAgent.session;
    first.progress(180);
    first.accept();
    first.remoteBye();
    expect(t.client.state).toBe('ended');
    expect(t.page.listeners).toBe(0);
    t.page.hide(true); // back from the cache later: nothing to hang up
    await t.client.call();
    expect(t.page.listeners).toBe(1);
    t.client.dispose();
    expect(t.page.listeners).toBe(0);
  });
});
