import { describe, expect, it } from 'vitest';
import { FakeTone } from '../client/testing/fakes.js';
import { DeskClient } from './desk-client.js';
import { DeskController } from './desk-controller.js';
import type { DeskCallDetail, DeskErrorDetail, DeskStateDetail } from './desk-events.js';
import { exponentialBackoff } from './reconnect-policy.js';
import { CALL_HEADER, Softphone } from './softphone.js';
import {
  FakeHost,
  FakePhoneStack,
  ManualTimers,
  SIP,
  SocketFactory,
  agent,
  apiError,
  context,
  fakeMicrophone,
  json,
  settle,
  signedInApi,
} from './testing/fakes.js';

const NOW = Date.parse('2025-01-01T10:00:00.000Z');

function setup(
  options: { softphone?: 'on' | 'off'; session?: boolean; microphone?: 'denied' } = {},
) {
  const api = signedInApi();
  // The cookie: there from the start with `session`, else set by a sign-in.
  let session = options.session ?? false;
  api.route('GET /desk/api/me', () =>
    session ? json(200, { agent: agent(), sip: SIP }) : apiError(401, 'unauthorized'),
  );
  api.route('POST /desk/api/login', () => {
    session = true;
    return json(200, { agent: agent() });
  });
  const sockets = new SocketFactory();
  const timers = new ManualTimers();
  const stack = new FakePhoneStack();
  const tones: FakeTone[] = [];
  const prefs = new Map<string, string>(
    options.softphone ? [['parley-desk.softphone', options.softphone]] : [],
  );
  let now = NOW;
  const host = new FakeHost();
  const client = new DeskClient({
    fetch: api.fetch,
    openSocket: sockets.open,
    baseUrl: 'http://127.0.0.1:8080/desk',
    reconnect: exponentialBackoff({ jitter: 0 }),
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  const phone = new Softphone({
    stack,
    getUserMedia: async () => {
      if (options.microphone === 'denied') throw new DOMException('denied', 'NotAllowedError');
      return fakeMicrophone().stream;
    },
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  const desk = new DeskController(host, {
    client,
    phone,
    ringTone: () => {
      const tone = new FakeTone();
      tones.push(tone);
      return tone;
    },
    now: () => now,
    preferences: { get: (k) => prefs.get(k) ?? null, set: (k, v) => void prefs.set(k, v) },
    setInterval: () => 'ticker',
    clearInterval: () => undefined,
  });
  return {
    api,
    sockets,
    timers,
    stack,
    tones,
    prefs,
    host,
    desk,
    advance: (ms: number) => (now += ms),
    calls: () => host.details<DeskCallDetail>('parley-desk-call'),
  };
}

/** Signed in with the softphone registered and the events socket open. */
async function signedIn(t: ReturnType<typeof setup>) {
  t.host.connect();
  await settle();
  await t.desk.signIn('agent1', 'secret');
  await settle();
  t.sockets.last.open();
  t.stack.userAgent.accept();
  return { socket: t.sockets.last, ua: t.stack.userAgent };
}

describe('DeskController sign-in', () => {
  it('shows the sign-in form without a session, and says why a sign-in failed', async () => {
    const t = setup();
    t.host.connect();
    expect(t.desk.auth).toBe('checking');
    await settle();
    expect(t.desk.auth).toBe('signed-out');
    expect(t.desk.signInError).toBeUndefined();
    t.api.route('POST /desk/api/login', apiError(401, 'unauthorized'));
    await t.desk.signIn('agent1', 'wrong');
    expect(t.desk.auth).toBe('signed-out');
    expect(t.desk.signInError).toBe('Wrong username or password.');
    expect(t.host.details<DeskErrorDetail>('parley-desk-error')).toEqual([
      { code: 'sign_in_failed', message: 'Wrong username or password.' },
    ]);
    await t.desk.signIn('  ', '');
    expect(t.desk.signInError).toBe('Enter your username and password.');
  });

  it('signs in: events socket, softphone with the typed password, recent calls', async () => {
    const t = setup();
    const { ua } = await signedIn(t);
    expect(t.desk.auth).toBe('signed-in');
    expect(t.desk.agent).toEqual(agent());
    expect(t.sockets.last.url).toBe('ws://127.0.0.1:8080/desk/api/events');
    expect(ua.options).toMatchObject({
      uri: 'sip:agent1@parley.test',
      authorizationPassword: 'secret',
      transportOptions: { server: SIP.wsUrl },
    });
    expect(t.api.paths()).toEqual([
      'GET /desk/api/me',
      'POST /desk/api/login',
      'GET /desk/api/me',
      'GET /desk/api/calls?limit=20',
    ]);
    expect(t.host.details<DeskStateDetail>('parley-desk-state').at(-1)).toEqual({
      signedIn: true,
      agent: agent(),
      connection: 'open',
      softphone: true,
      phone: 'registered',
    });
  });

  it('resumes a session after a reload and asks for the password for the softphone', async () => {
    const t = setup({ session: true });
    t.host.connect();
    await settle();
    expect(t.desk.auth).toBe('signed-in');
    expect(t.stack.userAgents).toHaveLength(0);
    expect(t.desk.needsPassword).toBe(true);
    t.desk.providePassword('secret');
    await settle();
    expect(t.stack.userAgent.options.authorizationPassword).toBe('secret');
    t.stack.userAgent.refuse(403);
    expect(t.desk.needsPassword).toBe(true); // refused: ask again
  });

  it('signs out when the session expired under the events socket', async () => {
    const t = setup();
    const { socket, ua } = await signedIn(t);
    t.api.route('GET /desk/api/me', apiError(401, 'unauthorized'));
    socket.drop();
    t.timers.runAll();
    await settle();
    t.sockets.last.drop();
    t.timers.runAll();
    await settle();
    expect(t.desk.auth).toBe('signed-out');
    expect(t.desk.signInError).toMatch(/session has expired/);
    expect(ua.stopped).toBe(true);
  });

  it('unregisters when the page is hidden or the element leaves it, and comes back', async () => {
    const t = setup();
    const { socket, ua } = await signedIn(t);
    t.host.isConnected = false;
    for (const c of t.host.controllers) c.hostDisconnected?.();
    await settle();
    expect(ua.stopped).toBe(true);
    expect(socket.closedByClient).toBe(true);
    t.host.isConnected = true;
    t.host.connect();
    await settle();
    expect(t.stack.userAgents).toHaveLength(2);
    expect(t.sockets.sockets).toHaveLength(2);
    t.desk.resume(); // once only
    expect(t.sockets.sockets).toHaveLength(2);
  });

  it('remembers "Use this browser as my phone" (never the password)', async () => {
    const t = setup();
    const { ua } = await signedIn(t);
    t.desk.setSoftphone(false);
    await settle();
    expect(ua.stopped).toBe(true);
    expect(t.prefs.get('parley-desk.softphone')).toBe('off');
    expect([...t.prefs.values()].join()).not.toContain('secret');
    t.desk.setSoftphone(true);
    await settle();
    expect(t.stack.userAgents).toHaveLength(2);
  });
});

describe('DeskController calls on the softphone', () => {
  it('rings, answers, chats and ends, joining desk events and SIP by call id', async () => {
    const t = setup();
    const { socket, ua } = await signedIn(t);
    t.api.route('GET /desk/api/calls/c1', {
      id: 'c1',
      endedAt: null,
      messages: [
        {
          seq: 1,
          from: 'visitor',
          receivedAt: 'x',
          message: { type: 'navigation', id: 'n1', at: 'x', url: 'https://shop.acme.test/cart' },
        },
      ],
      context: context('c1'),
    });

    // The ring event first: details shown, Answer waits for the INVITE.
    socket.receive({ type: 'ring', call: context('c1') });
    await settle();
    expect(t.desk.ringing).toMatchObject([
      { callId: 'c1', phone: undefined, page: { url: 'https://shop.acme.test/cart' } },
    ]);
    expect(t.desk.announcement).toBe('Incoming call on sales from Ada Lovelace, +15550100.');
    expect(t.tones[0]?.playing).toBe(true);
    expect(t.calls()).toEqual([{ phase: 'ringing', callId: 'c1', call: context('c1') }]);

    const invitation = ua.invite({ [CALL_HEADER]: 'c1' });
    expect(t.desk.ringing[0]?.phone).toBe('ringing');

    await t.desk.answer('c1');
    expect(invitation.accepted).toBeDefined();
    expect(t.desk.active).toMatchObject({
      callId: 'c1',
      here: true,
      ending: false,
      answeredAt: NOW,
    });
    expect(t.desk.ringing).toEqual([]);
    expect(t.tones[0]?.playing).toBe(false);
    expect(t.desk.remoteStream).toBe(invitation.remote);
    socket.receive({ type: 'answered', call: context('c1', { state: 'answered' }) });
    expect(t.calls().filter((c) => c.phase === 'answered')).toEqual([
      { phase: 'answered', callId: 'c1', call: context('c1'), here: true },
    ]);

    // Messages in order of seq, each once (the gateway repeats history on reconnect).
    const chat = (seq: number, from: 'visitor' | 'agent', text: string) => ({
      type: 'message',
      callId: 'c1',
      stored: {
        seq,
        from,
        receivedAt: 'x',
        message: { type: 'chat', id: `m${seq}`, at: 'x', text },
      },
    });
    socket.receive(chat(3, 'agent', 'How can I help?'));
    socket.receive(chat(2, 'visitor', 'Hello'));
    socket.receive(chat(3, 'agent', 'How can I help?'));
    socket.receive({
      type: 'message',
      callId: 'c1',
      stored: {
        seq: 4,
        from: 'visitor',
        receivedAt: 'x',
        message: { type: 'navigation', id: 'n4', at: 'x', url: '/checkout', title: 'Checkout' },
      },
    });
    expect(t.desk.active?.chat.map((e) => [e.from, e.text])).toEqual([
      ['visitor', 'Hello'],
      ['agent', 'How can I help?'],
      ['event', 'Visitor went to Checkout (/checkout)'],
    ]);
    expect(t.desk.active?.page).toMatchObject({ url: '/checkout' });
    expect(t.host.details('parley-desk-message')).toHaveLength(3);

    // Chat goes out on the socket; a refusal shows in the chat.
    expect(t.desk.sendChat('  Your order ships today  ')).toBe(true);
    expect(JSON.parse(socket.sent.at(-1)!)).toEqual({
      type: 'chat',
      callId: 'c1',
      text: 'Your order ships today',
    });
    socket.receive({ type: 'notice', code: 'message_rejected', reason: 'rate limited' });
    expect(t.desk.active?.chat.at(-1)).toMatchObject({
      from: 'notice',
      text: 'Message not sent: rate limited.',
    });

    // Mute and hold act on the call's tracks.
    t.desk.toggleMute();
    t.desk.toggleHold();
    expect(invitation.tracks).toEqual({ send: false, receive: false });
    expect(t.desk.held).toBe(true);

    // Hang up: BYE now, the summary when the gateway says how it ended.
    t.advance(65_000);
    await t.desk.hangup();
    expect(invitation.byes).toBe(1);
    expect(t.desk.active?.ending).toBe(true);
    socket.receive({ type: 'ended', callId: 'c1', reason: 'normal_clearing', outcome: 'answered' });
    await settle();
    expect(t.desk.active).toBeUndefined();
    expect(t.desk.lastEnded).toMatchObject({
      callId: 'c1',
      outcome: 'answered',
      reason: 'normal_clearing',
      talkMs: 65_000,
    });
    expect(t.calls().at(-1)).toEqual({
      phase: 'ended',
      callId: 'c1',
      outcome: 'answered',
      reason: 'normal_clearing',
    });
    expect(t.api.paths().filter((p) => p.startsWith('GET /desk/api/calls?'))).toHaveLength(2);
  });

  it('shows an INVITE that came before its ring event, and fires `ringing` once with the context', async () => {
    const t = setup();
    const { socket, ua } = await signedIn(t);
    t.api.route('GET /desk/api/calls/c2', apiError(500, 'internal'));
    ua.invite({ [CALL_HEADER]: 'c2' });
    expect(t.desk.ringing).toMatchObject([{ callId: 'c2', context: undefined, phone: 'ringing' }]);
    socket.receive({ type: 'ring', call: context('c2') });
    socket.receive({ type: 'ring', call: context('c2') });
    expect(t.desk.ringing).toMatchObject([{ callId: 'c2', context: { callId: 'c2' } }]);
    expect(t.calls().filter((c) => c.phase === 'ringing')).toHaveLength(1);
  });

  it('declines, and forgets a ring that stopped', async () => {
    const t = setup();
    const { socket, ua } = await signedIn(t);
    socket.receive({ type: 'ring', call: context('c3') });
    const invitation = ua.invite({ [CALL_HEADER]: 'c3' });
    await t.desk.decline('c3');
    expect(invitation.rejected).toBe(486);
    expect(t.desk.ringing).toEqual([]);
    expect(t.calls().at(-1)).toEqual({ phase: 'ring-stopped', callId: 'c3' });

    socket.receive({ type: 'ring', call: context('c4') });
    socket.receive({ type: 'ring-stopped', callId: 'c4' });
    expect(t.desk.ringing).toEqual([]);
    expect(t.tones.every((tone) => !tone.playing)).toBe(true);
  });

  it('tells the agent when the microphone is blocked, and keeps the call ringing', async () => {
    const t = setup({ microphone: 'denied' });
    const { socket, ua } = await signedIn(t);
    await settle();
    expect(t.desk.microphoneBlocked).toBe(true); // asked at sign-in, not at the first ring
    socket.receive({ type: 'ring', call: context('c5') });
    const invitation = ua.invite({ [CALL_HEADER]: 'c5' });
    await t.desk.answer('c5');
    expect(t.desk.error).toMatchObject({ code: 'microphone_denied' });
    expect(invitation.accepted).toBeUndefined();
    expect(t.desk.ringing).toMatchObject([{ callId: 'c5', phone: 'ringing' }]);
    t.desk.dismissError();
    expect(t.desk.error).toBeUndefined();
  });

  it('after a reconnect forgets rings the gateway does not repeat and ends a call that ended meanwhile', async () => {
    const t = setup();
    const { socket, ua } = await signedIn(t);
    socket.receive({ type: 'ring', call: context('c6') });
    socket.receive({ type: 'ring', call: context('c7') });
    ua.invite({ [CALL_HEADER]: 'c7' });
    await t.desk.answer('c7');
    socket.receive({ type: 'answered', call: context('c7') });
    t.api.route('GET /desk/api/calls/c7', {
      id: 'c7',
      endedAt: '2025-01-01T10:05:00Z',
      outcome: 'answered',
      reason: 'media_timeout',
      messages: [],
      context: null,
    });
    socket.drop();
    t.timers.runAll();
    await settle();
    t.sockets.last.open();
    await settle();
    expect(t.desk.ringing).toEqual([]);
    expect(t.desk.active).toBeUndefined();
    expect(t.desk.lastEnded).toMatchObject({
      callId: 'c7',
      outcome: 'answered',
      reason: 'media_timeout',
    });
  });
});

describe('DeskController beside a SIP phone', () => {
  it('shows the same calls without registering, answered elsewhere', async () => {
    const t = setup({ softphone: 'off' });
    t.host.connect();
    await settle();
    await t.desk.signIn('agent1', 'secret');
    t.sockets.last.open();
    expect(t.stack.userAgents).toHaveLength(0);
    expect(t.desk.needsPassword).toBe(false);
    const socket = t.sockets.last;
    socket.receive({ type: 'presence', agent: agent({ state: 'ringing' }) });
    socket.receive({ type: 'ring', call: context('c8') });
    expect(t.tones).toHaveLength(0); // the SIP phone rings
    socket.receive({ type: 'answered', call: context('c8') });
    expect(t.desk.active).toMatchObject({ callId: 'c8', here: false });
    expect(t.calls().at(-1)).toMatchObject({ phase: 'answered', here: false });
    socket.receive({
      type: 'presence',
      agent: agent({ state: 'wrap-up', wrapUpUntil: '2025-01-01T10:00:30Z' }),
    });
    socket.receive({ type: 'ended', callId: 'c8', reason: null, outcome: 'answered' });
    expect(t.desk.agent?.state).toBe('wrap-up');
    expect(t.desk.lastEnded?.callId).toBe('c8');
  });

  it('changes availability through the API', async () => {
    const t = setup();
    await signedIn(t);
    await t.desk.setAvailability('away');
    expect(t.api.requests.at(-1)).toMatchObject({
      path: '/desk/api/availability',
      body: { availability: 'away' },
    });
    expect(t.desk.agent?.availability).toBe('away');
  });
});
