import { describe, expect, it } from 'vitest';
import { DeskApiError } from './desk-api-error.js';
import { DeskClient, type DeskConnection } from './desk-client.js';
import type { DeskEvent } from './desk-protocol.js';
import { exponentialBackoff } from './reconnect-policy.js';
import {
  FakeApi,
  ManualTimers,
  SIP,
  SocketFactory,
  agent,
  apiError,
  context,
  json,
  settle,
  signedInApi,
} from './testing/fakes.js';

function setup(api: FakeApi = signedInApi()) {
  const sockets = new SocketFactory();
  const timers = new ManualTimers();
  const client = new DeskClient({
    fetch: api.fetch,
    openSocket: sockets.open,
    baseUrl: 'https://gw.example/desk',
    reconnect: exponentialBackoff({ initialMs: 500, maxMs: 4000, jitter: 0 }),
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  const events: DeskEvent[] = [];
  const connections: DeskConnection[] = [];
  let unauthorized = 0;
  client.on('event', (e) => events.push(e));
  client.on('connection', (c) => connections.push(c));
  client.on('unauthorized', () => unauthorized++);
  return { api, sockets, timers, client, events, connections, unauthorized: () => unauthorized };
}

describe('DeskClient REST', () => {
  it('signs in with a JSON POST on the page origin, cookies same-origin', async () => {
    const t = setup();
    const signedIn = await t.client.login('agent1', 'secret');
    expect(signedIn).toEqual(agent());
    const [login] = t.api.requests;
    expect(login).toMatchObject({
      method: 'POST',
      path: '/desk/api/login',
      body: { username: 'agent1', password: 'secret' },
    });
    expect(login!.init.credentials).toBe('same-origin');
    expect((login!.init.headers as Record<string, string>)['Content-Type']).toBe(
      'application/json',
    );
  });

  it('rejects with the gateway’s code, status and Retry-After', async () => {
    const api = new FakeApi()
      .route('POST /desk/api/login', apiError(401, 'unauthorized', 'wrong username or password'))
      .route(
        'GET /desk/api/me',
        json(
          429,
          { error: { code: 'rate_limited', message: 'slow down' } },
          { 'Retry-After': '12' },
        ),
      );
    const t = setup(api);
    const wrong = await t.client.login('agent1', 'nope').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(DeskApiError);
    expect(wrong).toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: 'wrong username or password',
    });
    expect((wrong as DeskApiError).unauthorized).toBe(true);
    await expect(t.client.me()).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      retryAfterSeconds: 12,
    });
  });

  it('reports an unreachable gateway as `network`', async () => {
    const t = setup();
    const client = new DeskClient({
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
      openSocket: t.sockets.open,
      baseUrl: 'https://gw.example/desk',
    });
    await expect(client.login('a', 'b')).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('reads the profile, availability, recent calls and a call’s detail', async () => {
    const t = setup();
    t.api.route('GET /desk/api/calls/c1', {
      id: 'c1',
      sessionNumber: '+15550100',
      endedAt: null,
      messages: [
        {
          seq: 1,
          from: 'visitor',
          receivedAt: 'x',
          message: { type: 'navigation', id: 'n', at: 'x', url: '/cart' },
        },
        { junk: true },
      ],
      context: context('c1'),
      session: null,
    });
    expect(await t.client.me()).toEqual({ agent: agent(), sip: SIP });
    expect(await t.client.setAvailability('away')).toMatchObject({ availability: 'away' });
    expect(t.api.requests.at(-1)).toMatchObject({
      path: '/desk/api/availability',
      body: { availability: 'away' },
    });
    expect(await t.client.recentCalls()).toEqual([]);
    expect(t.api.requests.at(-1)?.path).toBe('/desk/api/calls?limit=20');
    const detail = await t.client.callDetail('c1');
    expect(detail.messages).toHaveLength(1);
    expect(detail.context?.callId).toBe('c1');
  });
});

describe('DeskClient events socket', () => {
  it('opens ws(s)://<origin>/desk/api/events and parses the frames', () => {
    const t = setup();
    t.client.connect();
    expect(t.sockets.last.url).toBe('wss://gw.example/desk/api/events');
    expect(t.client.connection).toBe('connecting');
    t.sockets.last.open();
    t.sockets.last.receive({ type: 'presence', agent: agent({ state: 'busy' }) });
    t.sockets.last.receive('garbage');
    t.sockets.last.receive({ type: 'ring', call: context('c1') });
    expect(t.events.map((e) => e.type)).toEqual(['presence', 'ring']);
    expect(t.connections).toEqual(['connecting', 'open']);
  });

  it('sends chat and availability frames, and refuses while not open', () => {
    const t = setup();
    expect(t.client.send({ type: 'chat', callId: 'c1', text: 'hi' })).toBe(false);
    t.client.connect();
    expect(t.client.send({ type: 'chat', callId: 'c1', text: 'hi' })).toBe(false);
    t.sockets.last.open();
    expect(t.client.send({ type: 'chat', callId: 'c1', text: 'hello there' })).toBe(true);
    expect(t.client.send({ type: 'availability', value: 'away' })).toBe(true);
    expect(t.sockets.last.sent.map((f) => JSON.parse(f) as unknown)).toEqual([
      { type: 'chat', callId: 'c1', text: 'hello there' },
      { type: 'availability', value: 'away' },
    ]);
  });

  it('reconnects after a drop with growing delays, reset once a socket opens', async () => {
    const t = setup();
    t.client.connect();
    t.sockets.last.open();
    t.sockets.last.drop();
    expect(t.client.connection).toBe('reconnecting');
    expect(t.timers.delays).toEqual([500]);
    t.timers.runAll();
    await settle();
    expect(t.sockets.sockets).toHaveLength(2);
    // It fails to open: the next delay doubles, and the session is checked first.
    t.sockets.last.drop();
    expect(t.timers.delays).toEqual([1000]);
    t.timers.runAll();
    await settle();
    expect(t.api.paths()).toEqual(['GET /desk/api/me']);
    expect(t.sockets.sockets).toHaveLength(3);
    t.sockets.last.drop();
    expect(t.timers.delays).toEqual([2000]);
    t.timers.runAll();
    await settle();
    t.sockets.last.drop();
    expect(t.timers.delays).toEqual([4000]);
    t.timers.runAll();
    await settle();
    t.sockets.last.drop();
    expect(t.timers.delays).toEqual([4000]); // capped
    t.timers.runAll();
    await settle();
    t.sockets.last.open();
    expect(t.client.connection).toBe('open');
    t.sockets.last.drop();
    expect(t.timers.delays).toEqual([500]);
  });

  it('gives up with `unauthorized` when the session expired', async () => {
    const t = setup();
    t.client.connect();
    t.sockets.last.open();
    t.api.route('GET /desk/api/me', apiError(401, 'unauthorized'));
    t.sockets.last.drop();
    t.timers.runAll();
    await settle();
    t.sockets.last.drop(); // the upgrade is refused: a plain close
    t.timers.runAll();
    await settle();
    expect(t.unauthorized()).toBe(1);
    expect(t.client.connection).toBe('closed');
    expect(t.timers.pending.size).toBe(0);
    expect(t.sockets.sockets).toHaveLength(2);
  });

  it('stops reconnecting on disconnect(), and ignores the old socket', async () => {
    const t = setup();
    t.client.connect();
    const first = t.sockets.last;
    first.open();
    first.drop();
    t.client.disconnect();
    expect(t.timers.pending.size).toBe(0);
    expect(t.client.connection).toBe('closed');
    first.receive({ type: 'ring-stopped', callId: 'c1' });
    expect(t.events).toEqual([]);
    // connect() again starts afresh.
    t.client.connect();
    t.sockets.last.open();
    t.client.disconnect();
    expect(t.sockets.last.closedByClient).toBe(true);
    expect(t.connections.at(-1)).toBe('closed');
  });
});
