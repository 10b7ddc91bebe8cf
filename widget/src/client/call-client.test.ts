import { describe, expect, it, vi } from 'vitest';
import { ERROR_CODES } from '@parley/shared/errors';
import { MAX_MESSAGE_BYTES, MESSAGE_BURST } from '@parley/shared/protocol';
import type { CallStateChange } from '../api/call-stack.js';
import { MessageRejectedError } from '../api/message-rejected-error.js';
import { CallClient } from './call-client.js';
import type { FetchLike } from './call-token.js';
import { FakeChannel, FakeStack, FakeTone, HANG, fakeMicrophone, json } from './testing/fakes.js';
import { CONNECT_TIMEOUT_MS } from './defaults.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function setup(
  options: {
    fetch?: FetchLike;
    gateway?: string;
    getUserMedia?: () => Promise<MediaStream>;
    listing?: string;
    impression?: string;
    reconnect?: { windowMs: number; firstDelayMs: number; maxDelayMs: number };
  } = {},
) {
  const sip = new FakeStack();
  const mic = fakeMicrophone();
  const tones: FakeTone[] = [];
  const clock = { now: 1000 };
  const getUserMedia = vi.fn(options.getUserMedia ?? (async () => mic.stream));
  const fetch = vi.fn<FetchLike>(
    options.fetch ??
      (async () =>
        json(200, {
          token: TOKEN,
          expiresAt: '2030-01-01T00:00:00Z',
          claims: {},
          gateway: { url: 'http://127.0.0.1:5080' },
        })),
  );
  let ids = 0;
  const client = new CallClient(
    {
      tokenUrl: '/api/call-token',
      queue: 'sales',
      ...(options.gateway ? { gateway: options.gateway } : {}),
      ...(options.listing ? { listing: options.listing, impression: options.impression } : {}),
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
    },
    {
      sip,
      getUserMedia,
      fetch,
      ringback: () => {
        const tone = new FakeTone();
        tones.push(tone);
        return tone;
      },
      baseUrl: 'https://shop.example/products/1',
      now: () => clock.now,
      wallClock: () => Date.UTC(2030, 0, 1),
      newId: () => `m${++ids}`,
    },
  );
  const changes: CallStateChange[] = [];
  client.on('state', (change) => changes.push(change));
  const states = () => changes.map((c) => c.state);
  return { client, sip, mic, tones, clock, fetch, getUserMedia, changes, states };
}

/** Runs the client up to the INVITE (the fake session exists). */
async function dialled(t: ReturnType<typeof setup>) {
  await t.client.call();
  return t.sip.userAgent.session;
}

/** Up to an answered call with an open message channel. */
async function answered(t: ReturnType<typeof setup>) {
  const session = await dialled(t);
  const channel = new FakeChannel();
  session.options.sessionDescriptionHandlerOptions.onDataChannel(channel.asRTCDataChannel());
  session.progress(180);
  session.accept();
  channel.open();
  return { session, channel };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CallClient', () => {
  it("calls a marketplace listing's web reference with its impression", async () => {
    const t = setup({ listing: 'ls_abc123', impression: 'im_xyz789' });
    const session = await dialled(t);
    const [, init] = t.fetch.mock.calls[0] ?? [];
    expect(init?.body).toBe(
      JSON.stringify({ queue: 'listing.ls_abc123', listing: 'ls_abc123', impression: 'im_xyz789' }),
    );
    expect(session.target).toBe('sip:listing.ls_abc123@parley.invalid');
    expect(session.options.extraHeaders).toEqual([
      `Authorization: Bearer ${TOKEN}`,
      'X-Parley-Impression: im_xyz789',
    ]);
  });

  it('goes idle → permission → connecting → ringing → in-call, asking for the microphone once', async () => {
    const t = setup();
    const media: MediaStream[] = [];
    t.client.on('media', (stream) => media.push(stream));
    const session = await dialled(t);
    expect(t.states()).toEqual(['permission', 'connecting']);

    // The token request.
    expect(t.fetch).toHaveBeenCalledTimes(1);
    const [url, init] = t.fetch.mock.calls[0] ?? [];
    expect(url).toBe('https://shop.example/api/call-token');
    expect(init).toMatchObject({
      method: 'POST',
      credentials: 'include',
      body: JSON.stringify({ queue: 'sales' }),
    });

    // sip.js as configured.
    const ua = t.sip.userAgent;
    expect(ua.started).toBe(true);
    expect(await ua.microphone()).toBe(t.mic.stream);
    expect(t.getUserMedia).toHaveBeenCalledTimes(1);
    expect(t.getUserMedia).toHaveBeenCalledWith({ audio: true });
    expect(ua.options.transportOptions.server).toBe('ws://127.0.0.1:5080/sip');
    expect(ua.options.logLevel).toBe('error');
    expect(ua.options.sessionDescriptionHandlerFactoryOptions.peerConnectionConfiguration).toEqual({
      iceServers: [],
    });
    expect(
      ua.options.sessionDescriptionHandlerFactoryOptions.iceGatheringTimeout,
    ).toBeLessThanOrEqual(500);
    expect(session.target).toBe('sip:sales@parley.invalid');
    expect(session.options.extraHeaders).toEqual([`Authorization: Bearer ${TOKEN}`]);
    expect(session.options.sessionDescriptionHandlerOptions).toMatchObject({
      constraints: { audio: true, video: false },
      dataChannel: true,
      dataChannelLabel: 'parley',
    });

    session.progress(100);
    expect(t.client.state).toBe('connecting');
    session.progress(180);
    expect(t.client.state).toBe('ringing');
    expect(t.tones[0]?.playing).toBe(true);

    t.clock.now = 5000;
    session.accept();
    expect(t.states()).toEqual(['permission', 'connecting', 'ringing', 'in-call']);
    expect(t.tones[0]?.playing).toBe(false);
    expect(t.client.connectedAt).toBe(5000);
    expect(media).toEqual([session.remote]);
  });

  it("plays the gateway's early media (183 with SDP) at once: no ringback, the stream handed over before the answer", async () => {
    const t = setup();
    const media: MediaStream[] = [];
    t.client.on('media', (stream) => media.push(stream));
    const session = await dialled(t);
    session.progress(183, 'v=0\r\n');
    expect(t.client.state).toBe('ringing');
    expect(t.tones).toEqual([]);
    expect(media).toEqual([session.remote]);
    // After a 180 the widget's ringback plays until a 183 brings the gateway's media.
    const u = setup();
    const later = await dialled(u);
    later.progress(180);
    expect(u.tones[0]?.playing).toBe(true);
    later.progress(183, 'v=0\r\n');
    expect(u.tones[0]?.playing).toBe(false);
  });

  it('goes to in-call on a 2xx without a 180 first', async () => {
    const t = setup();
    const session = await dialled(t);
    session.accept();
    expect(t.states()).toEqual(['permission', 'connecting', 'in-call']);
  });

  it("restarts ICE when the call's connection fails (a network change), and stops watching at hangup", async () => {
    const t = setup();
    const session = await dialled(t);
    const peer = Object.assign(new EventTarget(), {
      iceConnectionState: 'connected' as RTCIceConnectionState,
    });
    session.peer = peer as unknown as RTCPeerConnection;
    session.accept();
    const fail = () => {
      peer.iceConnectionState = 'failed';
      peer.dispatchEvent(new Event('iceconnectionstatechange'));
    };
    fail();
    await Promise.resolve();
    expect(session.iceRestarts).toBe(1);
    expect(t.client.state).toBe('in-call');
    await t.client.hangup();
    fail();
    expect(session.iceRestarts).toBe(1);
  });

  it('passes the ICE servers and relay policy of the token response and prefers the gateway attribute', async () => {
    const iceServers = [{ urls: ['turn:turn.example:3478'], username: 'u', credential: 'c' }];
    const t = setup({
      gateway: 'wss://gw.example/custom',
      fetch: async () =>
        json(200, {
          token: TOKEN,
          expiresAt: 'x',
          claims: {},
          gateway: { url: 'https://other.example', iceServers, iceTransportPolicy: 'relay' },
        }),
    });
    await dialled(t);
    expect(t.sip.userAgent.options.transportOptions.server).toBe('wss://gw.example/custom');
    expect(
      t.sip.userAgent.options.sessionDescriptionHandlerFactoryOptions.peerConnectionConfiguration,
    ).toEqual({ iceServers, iceTransportPolicy: 'relay' });
  });

  it('maps a refusal with a Reason header to its code, even though sip.js terminates the session first', async () => {
    const t = setup();
    const session = await dialled(t);
    session.progress(180);
    session.reject(403, 'SIP;cause=403;text="expired"');
    await flush();
    expect(t.client.state).toBe('error');
    expect(t.changes.at(-1)).toMatchObject({
      state: 'error',
      code: 'expired',
      human: ERROR_CODES.expired.human,
    });
    expect(t.tones[0]?.playing).toBe(false);
    expect(t.sip.userAgent.stopped).toBe(true);
    expect(t.mic.track.stopped).toBe(true);
  });

  it.each([
    ['an unknown code', 'SIP;cause=480;text="some_new_code"'],
    ['no Reason header', undefined],
  ])('maps a refusal with %s to call_failed', async (_, reason) => {
    const t = setup();
    const session = await dialled(t);
    session.reject(480, reason);
    await flush();
    expect(t.changes.at(-1)).toMatchObject({
      state: 'error',
      code: 'call_failed',
      human: ERROR_CODES.call_failed.human,
    });
  });

  it('ends on a BYE from the agent, and answers it', async () => {
    const t = setup();
    const { session } = await answered(t);
    const bye = session.remoteBye('SIP;cause=200;text="normal_clearing"');
    await flush();
    expect(bye.accepted).toBe(true);
    expect(t.states().at(-1)).toBe('ended');
    expect(t.changes.at(-1)?.code).toBeUndefined();
    expect(t.sip.userAgent.stopped).toBe(true);
  });

  it('turns a BYE carrying a Parley error code into that error', async () => {
    const t = setup();
    const { session } = await answered(t);
    session.remoteBye('SIP;cause=408;text="media_timeout"');
    await flush();
    expect(t.changes.at(-1)).toMatchObject({
      state: 'error',
      code: 'media_timeout',
      human: ERROR_CODES.media_timeout.human,
    });
  });

  it('reports network_lost when the WebSocket closes during a call the gateway gave no rebind key', async () => {
    const t = setup();
    const session = await dialled(t);
    session.accept({});
    t.sip.userAgent.disconnect();
    await flush();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'network_lost' });
  });

  describe('when the WebSocket drops during a call', () => {
    const quick = { windowMs: 200, firstDelayMs: 1, maxDelayMs: 5 };

    it("reconnects, rebinds the call with the gateway's key and is in the call again", async () => {
      const t = setup({ reconnect: quick });
      const { session } = await answered(t);
      const ua = t.sip.userAgent;
      ua.reconnects = [false, true]; // the first try fails: back-off, then the gateway is back
      ua.disconnect();
      expect(t.states().at(-1)).toBe('reconnecting');
      await vi.waitFor(() => expect(session.rebinds).toHaveLength(1));
      expect(ua.reconnectCalls).toBe(2);
      // No peer connection to say ICE is fine: the rebind restarts ICE too.
      expect(session.rebinds[0]).toMatchObject({ key: 'key-1', iceRestart: true });
      session.rebinds[0]?.answer({ statusCode: 200, reason: undefined });
      await vi.waitFor(() => expect(t.states().at(-1)).toBe('in-call'));
      expect(t.states().slice(-2)).toEqual(['reconnecting', 'in-call']);
      expect(ua.stopped).toBe(false);
      // And again: a second drop is brought back the same way.
      ua.reconnects = [true];
      ua.disconnect();
      await vi.waitFor(() => expect(session.rebinds).toHaveLength(2));
    });

    it('ends with reconnect_refused when the gateway refuses the rebind', async () => {
      const t = setup({ reconnect: quick });
      const { session } = await answered(t);
      t.sip.userAgent.reconnects = [true];
      t.sip.userAgent.disconnect();
      await vi.waitFor(() => expect(session.rebinds).toHaveLength(1));
      session.rebinds[0]?.answer({
        statusCode: 403,
        reason: 'SIP;cause=403;text="reconnect_refused"',
      });
      await vi.waitFor(() =>
        expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'reconnect_refused' }),
      );
    });

    it('ends with reconnect_expired when the gateway no longer holds the call (481)', async () => {
      const t = setup({ reconnect: quick });
      const { session } = await answered(t);
      t.sip.userAgent.reconnects = [true];
      t.sip.userAgent.disconnect();
      await vi.waitFor(() => expect(session.rebinds).toHaveLength(1));
      session.rebinds[0]?.answer({ statusCode: 481, reason: undefined });
      await vi.waitFor(() =>
        expect(t.changes.at(-1)).toMatchObject({
          state: 'error',
          code: 'reconnect_expired',
          human: ERROR_CODES.reconnect_expired.human,
        }),
      );
    });

    it('ends with reconnect_expired when the WebSocket does not come back within the window', async () => {
      const t = setup({ reconnect: quick });
      await answered(t);
      t.sip.userAgent.disconnect(); // every reconnect fails
      await vi.waitFor(() =>
        expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'reconnect_expired' }),
      );
      expect(t.sip.userAgent.reconnectCalls).toBeGreaterThan(1);
      await vi.waitFor(() => expect(t.sip.userAgent.stopped).toBe(true));
    });

    it('stops trying when the visitor hangs up', async () => {
      const t = setup({ reconnect: { windowMs: 5000, firstDelayMs: 20, maxDelayMs: 20 } });
      await answered(t);
      t.sip.userAgent.disconnect();
      await t.client.hangup();
      expect(t.states().slice(-2)).toEqual(['reconnecting', 'ended']);
      const calls = t.sip.userAgent.reconnectCalls;
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(t.sip.userAgent.reconnectCalls).toBe(calls);
    });
  });

  it('reports network_lost when the WebSocket closes while ringing', async () => {
    const t = setup();
    const session = await dialled(t);
    session.progress(180);
    t.sip.userAgent.disconnect();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'network_lost' });
    expect(t.tones[0]?.playing).toBe(false);
  });

  it('reports gateway_unreachable when the WebSocket does not open', async () => {
    const t = setup();
    t.sip.startError = new Error('WebSocket closed');
    await t.client.call();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'gateway_unreachable' });
    expect(t.sip.userAgent.sessions).toHaveLength(0);
    expect(t.mic.track.stopped).toBe(true);
  });

  it('gives up with gateway_unreachable when the WebSocket neither opens nor closes', async () => {
    vi.useFakeTimers();
    try {
      const t = setup();
      t.sip.startError = HANG;
      const calling = t.client.call();
      await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS - 1);
      expect(t.changes.at(-1)?.state).toBe('connecting');
      await vi.advanceTimersByTimeAsync(1);
      await calling;
      expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'gateway_unreachable' });
      expect(t.mic.track.stopped).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows the token endpoint's refusal: its code, its human text, its Retry-After", async () => {
    const body = {
      error: {
        code: 'outside_business_hours',
        message: 'The queue is closed at this time.',
        human: 'We open at 9.',
      },
      retryAfterSeconds: 60,
    };
    const t = setup({ fetch: async () => json(403, body) });
    await t.client.call();
    expect(t.changes.at(-1)).toEqual({
      state: 'error',
      code: 'outside_business_hours',
      message: 'The queue is closed at this time.',
      human: 'We open at 9.',
      retryAfterSeconds: 60,
    });
    expect(t.sip.userAgents).toHaveLength(0);
  });

  it('falls back to call_failed when the token endpoint answers nonsense or cannot be reached', async () => {
    const broken = setup({ fetch: async () => new Response('<html>oops</html>', { status: 502 }) });
    await broken.client.call();
    expect(broken.changes.at(-1)).toMatchObject({ state: 'error', code: 'call_failed' });

    const offline = setup({
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await offline.client.call();
    expect(offline.changes.at(-1)).toMatchObject({ state: 'error', code: 'call_failed' });
  });

  it('refuses a token that could not go into a SIP header', async () => {
    const t = setup({
      fetch: async () => json(200, { token: 'abc\r\nX-Evil: 1', expiresAt: 'x', claims: {} }),
    });
    await t.client.call();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'call_failed' });
  });

  it('needs a gateway URL from the attribute or the token response', async () => {
    const t = setup({ fetch: async () => json(200, { token: TOKEN, expiresAt: 'x', claims: {} }) });
    await t.client.call();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'invalid_config' });
  });

  it('refuses relay-only ICE without a TURN server, before any WebSocket', async () => {
    const t = setup({
      fetch: async () =>
        json(200, {
          token: TOKEN,
          expiresAt: 'x',
          claims: {},
          gateway: {
            url: 'https://gw.example',
            iceServers: [{ urls: 'stun:stun.example' }],
            iceTransportPolicy: 'relay',
          },
        }),
    });
    await t.client.call();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'invalid_config' });
    expect(String(t.changes.at(-1)?.message)).toMatch(/no TURN server/);
    expect(t.sip.userAgents).toHaveLength(0);
    expect(t.mic.track.stopped).toBe(true);
  });

  it('reports microphone_denied, sends no INVITE and closes the WebSocket it opened meanwhile', async () => {
    const t = setup({
      getUserMedia: async () => {
        throw new DOMException('Permission denied', 'NotAllowedError');
      },
    });
    await t.client.call();
    await flush();
    expect(t.states()).toEqual(['permission', 'error']);
    expect(t.changes.at(-1)).toMatchObject({
      code: 'microphone_denied',
      human: ERROR_CODES.microphone_denied.human,
    });
    for (const ua of t.sip.userAgents) {
      expect(ua.sessions).toHaveLength(0);
      expect(ua.stopped).toBe(true);
    }
  });

  it('opens the WebSocket while the microphone prompt is up, and sends the INVITE after the grant', async () => {
    let grant: (stream: MediaStream) => void = () => undefined;
    const t = setup({ getUserMedia: () => new Promise((resolve) => (grant = resolve)) });
    const calling = t.client.call();
    await flush();
    expect(t.client.state).toBe('permission');
    expect(t.sip.userAgent.started).toBe(true);
    expect(t.sip.userAgent.sessions).toHaveLength(0);
    grant(t.mic.stream);
    await calling;
    expect(t.states()).toEqual(['permission', 'connecting']);
    expect(t.sip.userAgent.sessions).toHaveLength(1);
    expect(await t.sip.userAgent.microphone()).toBe(t.mic.stream);
  });

  it('opens the WebSocket again when it closed while the prompt was up, then sends the INVITE', async () => {
    let grant: (stream: MediaStream) => void = () => undefined;
    const t = setup({ getUserMedia: () => new Promise((resolve) => (grant = resolve)) });
    const calling = t.client.call();
    await flush();
    const ua = t.sip.userAgent;
    ua.reconnects = [true];
    ua.disconnect();
    grant(t.mic.stream);
    await calling;
    expect(ua.reconnectCalls).toBe(1);
    expect(ua.sessions).toHaveLength(1);
    expect(t.client.state).toBe('connecting');
  });

  it('ends with network_lost when that WebSocket cannot be opened again', async () => {
    let grant: (stream: MediaStream) => void = () => undefined;
    const t = setup({ getUserMedia: () => new Promise((resolve) => (grant = resolve)) });
    const calling = t.client.call();
    await flush();
    const ua = t.sip.userAgent;
    ua.disconnect();
    grant(t.mic.stream);
    await calling;
    expect(ua.sessions).toHaveLength(0);
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'network_lost' });
  });

  it("shows the token endpoint's refusal while the prompt is up, and stops a grant that comes after", async () => {
    let grant: (stream: MediaStream) => void = () => undefined;
    const t = setup({
      getUserMedia: () => new Promise((resolve) => (grant = resolve)),
      fetch: async () =>
        json(403, { error: { code: 'outside_business_hours', message: 'closed' } }),
    });
    const calling = t.client.call();
    await flush();
    expect(t.states()).toEqual(['permission', 'error']);
    expect(t.changes.at(-1)).toMatchObject({ code: 'outside_business_hours' });
    grant(t.mic.stream);
    await calling;
    expect(t.mic.track.stopped).toBe(true);
    expect(t.sip.userAgents).toHaveLength(0);
  });

  it("warms the SIP stack and opens the gateway's WebSocket when a call looks likely; the click's INVITE goes over it", async () => {
    const t = setup({
      fetch: async () =>
        json(200, {
          token: TOKEN,
          expiresAt: '2030-01-01T01:00:00Z',
          claims: {},
          gateway: { url: 'http://127.0.0.1:5080' },
        }),
    });
    t.client.prefetch();
    expect(t.sip.warmed).toBe(1);
    await flush();
    expect(t.sip.userAgents).toHaveLength(1);
    expect(t.sip.userAgent.started).toBe(true);
    expect(t.client.state).toBe('idle');
    const session = await dialled(t);
    expect(t.sip.userAgents).toHaveLength(1);
    expect(session.options.extraHeaders).toEqual([`Authorization: Bearer ${TOKEN}`]);
    expect(await t.sip.userAgent.microphone()).toBe(t.mic.stream);
    expect(t.fetch).toHaveBeenCalledTimes(1);
  });

  it('cancels a ringing call on hangup() and waits for the final response before closing the WebSocket', async () => {
    const t = setup();
    const session = await dialled(t);
    session.progress(180);
    const hangingUp = t.client.hangup();
    await flush();
    expect(session.cancelled).toBe(1);
    expect(t.states().at(-1)).toBe('ended');
    expect(t.tones[0]?.playing).toBe(false);
    expect(t.sip.userAgent.stopped).toBe(false); // the 487 still needs our ACK
    session.reject(487);
    await hangingUp;
    expect(t.sip.userAgent.stopped).toBe(true);
    expect(t.states().at(-1)).toBe('ended');
  });

  it('sends BYE on hangup() in a call, and can call again', async () => {
    const t = setup();
    const { session, channel } = await answered(t);
    await t.client.hangup();
    expect(session.byes).toBe(1);
    expect(channel.readyState).toBe('closed');
    expect(t.mic.track.stopped).toBe(true);
    await t.client.call();
    expect(t.sip.userAgents).toHaveLength(2);
    expect(t.client.state).toBe('connecting');
  });

  it('stops at once when hung up while the token is being fetched', async () => {
    let release: (r: Response) => void = () => undefined;
    const t = setup({
      fetch: (_url, init) =>
        new Promise((resolve, reject) => {
          release = resolve;
          init.signal?.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          );
        }),
    });
    const calling = t.client.call();
    await flush();
    expect(t.client.state).toBe('connecting');
    await t.client.hangup();
    await calling;
    release(json(200, {}));
    expect(t.states()).toEqual(['permission', 'connecting', 'ended']);
    expect(t.sip.userAgents).toHaveLength(0);
    expect(t.mic.track.stopped).toBe(true);
  });

  it('sends DTMF as SIP INFO application/dtmf-relay', async () => {
    const t = setup();
    const { session } = await answered(t);
    await t.client.sendDtmf('5');
    await t.client.sendDtmf('#');
    expect(session.infos.map((i) => i.body)).toEqual([
      {
        contentDisposition: 'render',
        contentType: 'application/dtmf-relay',
        content: 'Signal=5\r\nDuration=160\r\n',
      },
      {
        contentDisposition: 'render',
        contentType: 'application/dtmf-relay',
        content: 'Signal=#\r\nDuration=160\r\n',
      },
    ]);
  });

  it('mutes by disabling the microphone track', async () => {
    const t = setup();
    await answered(t);
    t.client.setMuted(true);
    expect(t.mic.track.enabled).toBe(false);
    t.client.setMuted(false);
    expect(t.mic.track.enabled).toBe(true);
  });
});

describe('CallClient messages', () => {
  it('sends a chat text as a ParleyMessage on the data channel', async () => {
    const t = setup();
    const { channel } = await answered(t);
    const sent = await t.client.send('Hello');
    expect(sent).toEqual({ type: 'chat', id: 'm1', at: '2030-01-01T00:00:00.000Z', text: 'Hello' });
    expect(channel.sent.map((f) => JSON.parse(f) as unknown)).toEqual([sent]);
    const form = {
      type: 'form',
      id: 'f1',
      at: 'now',
      form: 'order',
      fields: { order: '42' },
    } as const;
    await expect(t.client.send(form)).resolves.toEqual(form);
  });

  it('rejects with a typed error when there is no call or no open channel', async () => {
    const t = setup();
    await expect(t.client.send('Hi')).rejects.toMatchObject({
      code: 'message_rejected',
      reason: 'not_in_call',
    });
    const session = await dialled(t);
    session.accept(); // no channel yet
    const error = await t.client.send('Hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageRejectedError);
    expect(error).toMatchObject({ reason: 'channel_closed' });
  });

  it('enforces the size limit and the schema', async () => {
    const t = setup();
    await answered(t);
    const big = {
      type: 'custom',
      id: 'c1',
      at: 'now',
      name: 'cart',
      data: 'x'.repeat(MAX_MESSAGE_BYTES),
    } as const;
    await expect(t.client.send(big)).rejects.toMatchObject({ reason: 'too_large' });
    await expect(t.client.send('')).rejects.toMatchObject({ reason: 'invalid' });
    await expect(t.client.send('x'.repeat(2001))).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('enforces the rate limit (burst, then the rate)', async () => {
    const t = setup();
    const { channel } = await answered(t);
    for (let i = 0; i < MESSAGE_BURST; i++) await t.client.send(`m${i}`);
    await expect(t.client.send('one too many')).rejects.toMatchObject({ reason: 'rate_limited' });
    t.clock.now += 100; // one token at 10 per second
    await expect(t.client.send('again')).resolves.toMatchObject({ text: 'again' });
    expect(channel.sent).toHaveLength(MESSAGE_BURST + 1);
  });

  it('emits received messages, gateway notices and queue statuses, and drops anything else', async () => {
    const t = setup();
    const { channel } = await answered(t);
    const messages: unknown[] = [];
    const notices: unknown[] = [];
    const queues: unknown[] = [];
    t.client.on('message', (m) => messages.push(m));
    t.client.on('notice', (n) => notices.push(n));
    t.client.on('queue', (q) => queues.push(q));
    const chat = { type: 'chat', id: 'a1', at: 'now', text: 'hello from the agent' };
    channel.receive(JSON.stringify(chat));
    channel.receive('not json');
    channel.receive(JSON.stringify({ type: 'chat', id: 'a2', at: 'now' }));
    channel.receive(
      JSON.stringify({ type: 'notice', code: 'message_rejected', ref: 'm1', reason: 'too large' }),
    );
    channel.receive(JSON.stringify({ type: 'notice', code: 'hold', held: true, reason: 'hold' }));
    channel.receive(JSON.stringify({ type: 'notice', code: 'hold', held: 'yes', reason: 'bad' }));
    const queued = {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 3,
      estimatedWaitSeconds: 240,
      at: 'now',
    };
    channel.receive(JSON.stringify(queued));
    channel.receive(JSON.stringify({ ...queued, position: 0 }));
    channel.receive(JSON.stringify({ ...queued, state: 'sleeping' }));
    expect(queues).toEqual([queued]);
    expect(messages).toEqual([chat]);
    expect(notices).toEqual([
      { type: 'notice', code: 'message_rejected', ref: 'm1', reason: 'too large' },
      { type: 'notice', code: 'hold', held: true, reason: 'hold' },
    ]);
  });

  it('reports the channel opening and closing', async () => {
    const t = setup();
    const channelStates: boolean[] = [];
    t.client.on('channel', (open) => channelStates.push(open));
    const { channel } = await answered(t);
    channel.close();
    expect(channelStates).toEqual([true, false]);
  });
});
