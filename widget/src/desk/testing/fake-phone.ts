/**
 * sip.js through the PhoneStack seam, in memory (re-exported by `fakes.ts`).
 * The invitation fake orders things as sip.js 0.21 does: `reject()` and a
 * CANCEL move the session to Terminated at once, `accept()` to Established
 * once the 200 OK is sent.
 */
import type {
  PhoneAcceptOptions,
  PhoneInvitation,
  PhoneStack,
  PhoneUserAgent,
  PhoneUserAgentOptions,
  RegisterResponse,
  RegistrationState,
  SipSessionState,
} from '../phone-stack.js';

/** A `startError` that makes start() never settle (a WebSocket that neither opens nor closes). */
export const HANG = new Error('hang');

export class FakeInvitation implements PhoneInvitation {
  state: SipSessionState = 'Initial';
  readonly listeners: ((state: SipSessionState) => void)[] = [];
  accepted: PhoneAcceptOptions | undefined;
  rejected: number | undefined;
  byes = 0;
  tracks: { send: boolean; receive: boolean } | undefined;
  acceptError: Error | undefined;
  /** The stream sip.js got from the microphone provider when accepting. */
  localStream: MediaStream | undefined;
  readonly remote = { id: 'remote-stream' } as unknown as MediaStream;

  constructor(
    readonly headers: Record<string, string>,
    readonly userAgent: FakePhoneUserAgent,
  ) {}

  header(name: string): string | undefined {
    return Object.entries(this.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  }

  remoteDisplayName(): string | undefined {
    return /^\s*"([^"]*)"/.exec(this.header('From') ?? '')?.[1];
  }

  onStateChange(listener: (state: SipSessionState) => void): void {
    this.listeners.push(listener);
  }

  async accept(options: PhoneAcceptOptions): Promise<void> {
    if (this.state !== 'Initial') throw new Error(`Invalid session state ${this.state}`);
    this.accepted = options;
    this.move('Establishing');
    this.localStream = await this.userAgent.microphone();
    if (this.acceptError) {
      this.move('Terminated');
      throw this.acceptError;
    }
    this.move('Established');
  }

  async reject(options: { readonly statusCode: number }): Promise<void> {
    if (this.state !== 'Initial' && this.state !== 'Establishing')
      throw new Error(`Invalid session state ${this.state}`);
    this.rejected = options.statusCode;
    this.move('Terminated');
  }

  async bye(): Promise<unknown> {
    if (this.state !== 'Established') throw new Error(`Invalid session state ${this.state}`);
    this.byes++;
    this.move('Terminated');
    return {};
  }

  remoteStream(): MediaStream | undefined {
    return this.state === 'Established' ? this.remote : undefined;
  }

  setTracks(send: boolean, receive: boolean): void {
    this.tracks = { send, receive };
  }

  // --- what the gateway does ---
  cancel(): void {
    this.move('Terminated');
  }

  remoteBye(): void {
    this.move('Terminated');
  }

  move(state: SipSessionState): void {
    if (this.state === 'Terminated') throw new Error(`Invalid state transition to ${state}`);
    if (this.state === state) return;
    this.state = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}

export class FakePhoneUserAgent implements PhoneUserAgent {
  started = 0;
  reconnects = 0;
  stopped = false;
  startError: Error | undefined;
  registers: { onAccept(): void; onReject(response: RegisterResponse): void }[] = [];
  readonly #listeners: ((state: RegistrationState) => void)[] = [];

  constructor(
    readonly options: PhoneUserAgentOptions,
    readonly microphone: () => Promise<MediaStream>,
  ) {}

  async start(): Promise<void> {
    this.started++;
    if (this.startError === HANG) return new Promise<never>(() => undefined);
    if (this.startError) throw this.startError;
  }

  async reconnect(): Promise<void> {
    this.reconnects++;
    if (this.startError) throw this.startError;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  async register(delegate: {
    onAccept(): void;
    onReject(response: RegisterResponse): void;
  }): Promise<void> {
    this.registers.push(delegate);
  }

  onRegistrationChange(listener: (state: RegistrationState) => void): void {
    this.#listeners.push(listener);
  }

  // --- what the gateway does ---
  /** 200 OK to the last REGISTER. */
  accept(): void {
    this.#registration('Registered');
    this.registers.at(-1)?.onAccept();
  }

  /** A final refusal of the last REGISTER. */
  refuse(statusCode: number, reasonPhrase = 'Forbidden'): void {
    this.#registration('Unregistered');
    this.registers.at(-1)?.onReject({ statusCode, reasonPhrase });
  }

  /** An INVITE arrives. */
  invite(headers: Record<string, string>): FakeInvitation {
    const invitation = new FakeInvitation(headers, this);
    this.options.delegate.onInvite(invitation);
    return invitation;
  }

  /** The WebSocket closed under us. */
  drop(): void {
    this.options.delegate.onDisconnect(new Error('WebSocket closed'));
  }

  #registration(state: RegistrationState): void {
    for (const listener of this.#listeners) listener(state);
  }
}

export class FakePhoneStack implements PhoneStack {
  readonly userAgents: FakePhoneUserAgent[] = [];
  /** The WebSocket of user agents made from now on cannot connect. */
  startError: Error | undefined;

  createUserAgent(
    options: PhoneUserAgentOptions,
    microphone: () => Promise<MediaStream>,
  ): PhoneUserAgent {
    const ua = new FakePhoneUserAgent(options, microphone);
    ua.startError = this.startError;
    this.userAgents.push(ua);
    return ua;
  }

  get userAgent(): FakePhoneUserAgent {
    const ua = this.userAgents.at(-1);
    if (!ua) throw new Error('no user agent yet');
    return ua;
  }
}
