/**
 * In-memory fakes of what the CallClient depends on (sip.js through the
 * SipStack seam, the microphone, the token endpoint, the message channel), for
 * unit tests without a browser. Their ordering mimics sip.js 0.21: a rejected
 * INVITE moves the session to Terminated before the request delegate hears of
 * the response (api/inviter.js), a BYE's delegate runs before it.
 */
import type { Tone } from '../ringback.js';
import type {
  SipBye,
  SipFinal,
  SipInviterOptions,
  SipRequestDelegate,
  SipResponse,
  SipSession,
  SipSessionState,
  SipStack,
  SipUserAgent,
  SipUserAgentOptions,
} from '../sip-stack.js';

export const response = (
  statusCode: number,
  headers: Record<string, string> = {},
  body?: string,
): SipResponse => ({
  message: {
    statusCode,
    reasonPhrase: 'Phrase',
    ...(body !== undefined ? { body } : {}),
    getHeader: (name) => headers[name.toLowerCase()],
  },
});

export class FakeSession implements SipSession {
  state: SipSessionState = 'Initial';
  readonly listeners: ((state: SipSessionState) => void)[] = [];
  delegate: SipRequestDelegate | undefined;
  readonly infos: { readonly body: { readonly content: string; readonly contentType: string } }[] =
    [];
  cancelled = 0;
  byes = 0;
  readonly remote = { id: 'remote-stream' } as unknown as MediaStream;

  constructor(
    readonly target: string,
    readonly options: SipInviterOptions,
  ) {}

  onStateChange(listener: (state: SipSessionState) => void): void {
    this.listeners.push(listener);
  }

  async invite(options: { readonly requestDelegate: SipRequestDelegate }): Promise<unknown> {
    this.delegate = options.requestDelegate;
    this.move('Establishing');
    return {};
  }

  async cancel(): Promise<void> {
    if (this.state !== 'Initial' && this.state !== 'Establishing')
      throw new Error(`Invalid session state ${this.state}`);
    this.cancelled++;
    this.move('Terminating'); // Terminated when the 487 comes
  }

  async bye(): Promise<unknown> {
    if (this.state !== 'Established') throw new Error(`Invalid session state ${this.state}`);
    this.byes++;
    this.move('Terminated');
    return {};
  }

  async info(options: {
    readonly requestOptions: { readonly body: { content: string; contentType: string } };
  }): Promise<unknown> {
    this.infos.push(options.requestOptions);
    return {};
  }

  remoteStream(): MediaStream | undefined {
    return this.remote;
  }

  /** The peer connection a test gives the session (none by default). */
  peer: RTCPeerConnection | undefined;
  iceRestarts = 0;

  peerConnection(): RTCPeerConnection | undefined {
    return this.peer;
  }

  async restartIce(): Promise<unknown> {
    this.iceRestarts++;
    return {};
  }

  /** Rebind re-INVITEs sent; each waits for the test's `answerRebind`. */
  readonly rebinds: { key: string; iceRestart: boolean; answer: (final: SipFinal) => void }[] = [];

  rebind(options: { readonly key: string; readonly iceRestart: boolean }): Promise<SipFinal> {
    return new Promise((resolve) => this.rebinds.push({ ...options, answer: resolve }));
  }

  // --- what the gateway does ---
  /** A provisional response; `sdp`, its body (a 183 with one is early media). */
  progress(status = 180, sdp?: string): void {
    this.delegate?.onProgress?.(response(status, {}, sdp));
  }

  accept(headers: Record<string, string> = { 'x-parley-rebind': 'key-1' }): void {
    this.move('Established');
    this.delegate?.onAccept?.(response(200, headers));
  }

  reject(status: number, reason?: string): void {
    this.move('Terminated');
    this.delegate?.onReject?.(response(status, reason === undefined ? {} : { reason }));
  }

  remoteBye(reason?: string): { accepted: boolean } {
    const result = { accepted: false };
    const bye: SipBye = {
      request: { getHeader: (name) => (name.toLowerCase() === 'reason' ? reason : undefined) },
      accept: async () => {
        result.accepted = true;
      },
    };
    this.options.delegate.onBye(bye);
    this.move('Terminated');
    return result;
  }

  /** Like sip.js's stateTransition(): Terminated is final, and moving there twice throws. */
  move(state: SipSessionState): void {
    if (this.state === 'Terminated')
      throw new Error(`Invalid state transition from Terminated to ${state}`);
    if (this.state === state) return;
    this.state = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}

export class FakeUserAgent implements SipUserAgent {
  started = false;
  stopped = false;
  readonly sessions: FakeSession[] = [];

  constructor(
    readonly options: SipUserAgentOptions,
    /** What the user agent's sessions would take as their microphone. */
    readonly microphone: () => Promise<MediaStream>,
    private readonly startError: Error | undefined,
  ) {}

  async start(): Promise<void> {
    if (this.startError === HANG) return new Promise<never>(() => undefined);
    if (this.startError) throw this.startError;
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** Results of reconnect(), in order; an empty list: every reconnect fails. */
  reconnects: boolean[] = [];
  reconnectCalls = 0;

  async reconnect(): Promise<void> {
    this.reconnectCalls++;
    if (!(this.reconnects.shift() ?? false)) throw new Error('WebSocket refused');
  }

  invite(target: string, options: SipInviterOptions): SipSession {
    const session = new FakeSession(target, options);
    this.sessions.push(session);
    return session;
  }

  /** The WebSocket closed under us. */
  disconnect(): void {
    this.options.delegate.onDisconnect(new Error('WebSocket closed'));
  }

  get session(): FakeSession {
    const session = this.sessions.at(-1);
    if (!session) throw new Error('no session yet');
    return session;
  }
}

export class FakeStack implements SipStack {
  readonly userAgents: FakeUserAgent[] = [];
  /** start() rejects with this, or never settles with {@link HANG}. */
  startError: Error | undefined;
  warmed = 0;

  warm(): void {
    this.warmed++;
  }

  createUserAgent(
    options: SipUserAgentOptions,
    microphone: () => Promise<MediaStream>,
  ): SipUserAgent {
    const userAgent = new FakeUserAgent(options, microphone, this.startError);
    this.userAgents.push(userAgent);
    return userAgent;
  }

  get userAgent(): FakeUserAgent {
    const ua = this.userAgents.at(-1);
    if (!ua) throw new Error('no user agent yet');
    return ua;
  }
}

export class FakeTrack {
  enabled = true;
  stopped = false;
  stop(): void {
    this.stopped = true;
  }
}

export function fakeMicrophone(): { stream: MediaStream; track: FakeTrack } {
  const track = new FakeTrack();
  const stream = {
    getAudioTracks: () => [track],
    getTracks: () => [track],
  } as unknown as MediaStream;
  return { stream, track };
}

export class FakeChannel {
  readyState: RTCDataChannelState = 'connecting';
  readonly sent: string[] = [];
  readonly #listeners = new Map<string, ((event: { data?: unknown }) => void)[]>();

  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.#dispatch('close', {});
  }

  open(): void {
    this.readyState = 'open';
    this.#dispatch('open', {});
  }

  receive(data: unknown): void {
    this.#dispatch('message', { data });
  }

  #dispatch(type: string, event: { data?: unknown }): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }

  asRTCDataChannel(): RTCDataChannel {
    return this as unknown as RTCDataChannel;
  }
}

export class FakeTone implements Tone {
  playing = false;
  start(): void {
    this.playing = true;
  }
  stop(): void {
    this.playing = false;
  }
}

export const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

/** A `startError` that makes start() never settle (a WebSocket that never opens nor closes). */
export const HANG = new Error('hang');

/** `navigator.permissions.query({ name: 'microphone' })`'s answer: a state the test moves. */
export class FakePermissionStatus extends EventTarget {
  constructor(public state: string) {
    super();
  }

  /** The visitor changed the site's setting: the browser fires `change`. */
  set(state: string): void {
    this.state = state;
    this.dispatchEvent(new Event('change'));
  }

  /** Listeners of `change` attached (added minus removed). */
  listeners = 0;

  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void {
    if (type === 'change') this.listeners++;
    super.addEventListener(type, listener, options);
  }

  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ): void {
    if (type === 'change') this.listeners--;
    super.removeEventListener(type, listener, options);
  }
}
