/**
 * The desk's softphone: this browser registered as the agent's phone (SIP over
 * the gateway's WebSocket, digest-authenticated with the agent's desk
 * password), receiving the calls the gateway rings the agent with. No DOM and
 * no sip.js here: sip.js comes through the PhoneStack seam, the microphone
 * through `getUserMedia`, so unit tests drive it with fakes.
 *
 * Calls are known by the gateway's call id, which the agent-leg INVITE carries
 * in `X-Parley-Call` (`gateway/src/calls/call.ts`) and the desk's `ring` event
 * carries as `call.callId`: the two meet here, in either order.
 *
 * ```
 *   INVITE ──▶ ringing ──answer()──▶ answering ──200 OK──▶ connected ──BYE──▶ ended
 *                 │                      │ (microphone refused: back to ringing)
 *                 └─ decline() / CANCEL ─┴──────────────────────────────────▶ ended
 * ```
 *
 * Hold is local: the gateway does not renegotiate browser legs, so hold stops
 * sending the microphone and silences the remote audio (the tracks are
 * disabled; the media keeps flowing, which also keeps the gateway's media
 * timeout quiet). The desk controller also tells the gateway, which tells the
 * visitor's widget that the call is on hold.
 */
import { stopTracks } from '../client/attempt.js';
import { Emitter } from '../client/emitter.js';
import { withTimeout } from '../client/timeout.js';
import { CONNECT_TIMEOUT_MS, ICE_GATHERING_TIMEOUT_MS } from './defaults.js';
import type {
  PhoneInvitation,
  PhoneUserAgent,
  RegisterResponse,
  SipSessionState,
} from './phone-stack.js';
import { exponentialBackoff, type ReconnectPolicy } from './reconnect-policy.js';
import { SoftphoneError } from './softphone-error.js';
import type {
  PhoneCallState,
  PhoneStatusChange,
  SoftphoneDeps,
  SoftphoneEvents,
  SoftphoneSettings,
} from './softphone-types.js';

/** The header of the agent-leg INVITE that names the gateway's call. */
export const CALL_HEADER = 'X-Parley-Call';

interface PhoneCall {
  readonly callId: string;
  readonly invitation: PhoneInvitation;
  state: PhoneCallState;
  microphone: MediaStream | undefined;
}

export class Softphone {
  readonly #deps: SoftphoneDeps;
  readonly #events = new Emitter<SoftphoneEvents>();
  readonly #policy: ReconnectPolicy;
  readonly #setTimeout: (callback: () => void, ms: number) => unknown;
  readonly #clearTimeout: (handle: unknown) => void;
  readonly #calls = new Map<string, PhoneCall>();
  #status: PhoneStatusChange = { status: 'off' };
  #userAgent: PhoneUserAgent | undefined;
  #failures = 0;
  #retry: unknown;
  #muted = false;
  #held = false;
  /** The call being answered: its microphone is the one sip.js asks for. */
  #answering: PhoneCall | undefined;

  constructor(deps: SoftphoneDeps) {
    this.#deps = deps;
    this.#policy = deps.reconnect ?? exponentialBackoff();
    this.#setTimeout = deps.setTimeout ?? ((callback, ms) => setTimeout(callback, ms));
    this.#clearTimeout =
      deps.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  get status(): PhoneStatusChange {
    return this.#status;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get held(): boolean {
    return this.#held;
  }

  on<K extends keyof SoftphoneEvents>(
    event: K,
    listener: (...args: SoftphoneEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** The phone's state of a call, if an INVITE for it reached this browser. */
  callState(callId: string): PhoneCallState | undefined {
    return this.#calls.get(callId)?.state;
  }

  /** The caller's name the INVITE's From carries (what the gateway tells the phone). */
  callerName(callId: string): string | undefined {
    return this.#calls.get(callId)?.invitation.remoteDisplayName();
  }

  /** An INVITE for the call is here and can be answered now. */
  canAnswer(callId: string): boolean {
    return this.#calls.get(callId)?.state === 'ringing';
  }

  remoteStream(callId: string): MediaStream | undefined {
    const call = this.#calls.get(callId);
    return call?.state === 'connected' ? call.invitation.remoteStream() : undefined;
  }

  /** Connects and registers; retries a dropped connection by itself until stop(). */
  async start(settings: SoftphoneSettings): Promise<void> {
    await this.stop();
    this.#failures = 0;
    this.#setStatus({ status: 'connecting' });
    const userAgent: PhoneUserAgent = this.#deps.stack.createUserAgent(
      {
        uri: `sip:${settings.username}@${settings.domain}`,
        authorizationUsername: settings.username,
        authorizationPassword: settings.password,
        ...(settings.displayName ? { displayName: settings.displayName } : {}),
        transportOptions: { server: settings.wsUrl },
        sessionDescriptionHandlerFactoryOptions: {
          // Always set: sip.js's default configuration adds a public STUN server.
          peerConnectionConfiguration: { iceServers: [] },
          iceGatheringTimeout: ICE_GATHERING_TIMEOUT_MS,
        },
        logLevel: 'error',
        userAgentString: settings.userAgentString ?? 'Parley desk',
        delegate: {
          onInvite: (invitation) => this.#onInvite(userAgent, invitation),
          onDisconnect: (error) => {
            if (userAgent !== this.#userAgent) return;
            this.#scheduleRetry(userAgent, `connection lost${error ? `: ${error.message}` : ''}`);
          },
        },
      },
      () => this.#microphoneForAnswer(),
    );
    this.#userAgent = userAgent;
    userAgent.onRegistrationChange((state) => {
      if (userAgent !== this.#userAgent) return;
      if (state === 'Registered') {
        this.#failures = 0;
        this.#setStatus({ status: 'registered' });
      } else if (state === 'Unregistered' && this.#status.status === 'registered') {
        // A refresh failed (sip.js refreshes by itself, without our delegate).
        this.#scheduleRetry(userAgent, 'registration lapsed');
      }
    });
    await this.#connect(userAgent, false);
  }

  /** Unregisters, ends any call on this browser and closes the WebSocket. */
  async stop(): Promise<void> {
    const userAgent = this.#userAgent;
    this.#userAgent = undefined;
    if (this.#retry !== undefined) this.#clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const call of [...this.#calls.values()]) {
      if (call.state === 'connected') await call.invitation.bye().catch(() => undefined);
      else if (call.invitation.state === 'Initial' || call.invitation.state === 'Establishing')
        await call.invitation.reject({ statusCode: 480 }).catch(() => undefined);
      this.#end(call);
    }
    if (userAgent) await userAgent.stop().catch(() => undefined);
    this.#setStatus({ status: 'off' });
  }

  /** Checks the microphone once (the permission prompt at sign-in rather than at the first ring). */
  async checkMicrophone(): Promise<boolean> {
    try {
      stopTracks(await this.#deps.getUserMedia({ audio: true }));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Answers a ringing call: asks for the microphone, then accepts (200 OK).
   * Rejects with a SoftphoneError; after `microphone_denied` the call still rings.
   */
  async answer(
    callId: string,
    options: { readonly extraHeaders?: readonly string[] } = {},
  ): Promise<void> {
    const call = this.#calls.get(callId);
    if (!call || call.state !== 'ringing') throw SoftphoneError.notRinging(callId);
    this.#move(call, 'answering');
    let microphone: MediaStream;
    try {
      microphone = await this.#deps.getUserMedia({ audio: true });
    } catch (error) {
      // (the state may have moved while the browser asked: a CANCEL ends the call)
      if (stateOf(call) === 'answering') this.#move(call, 'ringing');
      throw SoftphoneError.microphoneDenied(error);
    }
    if (stateOf(call) !== 'answering') {
      stopTracks(microphone); // cancelled meanwhile
      throw SoftphoneError.notRinging(callId);
    }
    call.microphone = microphone;
    this.#muted = false;
    this.#held = false;
    this.#answering = call;
    try {
      await call.invitation.accept({
        ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
        sessionDescriptionHandlerOptions: {
          constraints: { audio: true, video: false },
          iceGatheringTimeout: ICE_GATHERING_TIMEOUT_MS,
        },
      });
    } catch (error) {
      this.#end(call); // no-op when sip.js ended it already
      throw SoftphoneError.answerFailed(error);
    } finally {
      if (this.#answering === call) this.#answering = undefined;
    }
  }

  /** Declines a ringing call with 486 Busy Here: the gateway tries the next agent. */
  async decline(callId: string): Promise<void> {
    const call = this.#calls.get(callId);
    if (!call || (call.state !== 'ringing' && call.state !== 'answering'))
      throw SoftphoneError.notRinging(callId);
    await call.invitation.reject({ statusCode: 486 });
    this.#end(call);
  }

  /** Hangs up a connected call (BYE). */
  async hangup(callId: string): Promise<void> {
    const call = this.#calls.get(callId);
    if (!call || call.state === 'ended') return;
    if (call.state === 'connected') await call.invitation.bye().catch(() => undefined);
    else await call.invitation.reject({ statusCode: 486 }).catch(() => undefined);
    this.#end(call);
  }

  setMuted(muted: boolean): void {
    this.#muted = muted;
    this.#applyTracks();
  }

  /** Local hold: microphone off and the remote audio silenced. */
  setHeld(held: boolean): void {
    this.#held = held;
    this.#applyTracks();
  }

  dispose(): void {
    void this.stop();
    this.#events.clear();
  }

  // --- registration -----------------------------------------------------

  async #connect(userAgent: PhoneUserAgent, again: boolean): Promise<void> {
    try {
      // sip.js waits for a close event a blocked socket never fires: bound the wait.
      await withTimeout(
        again ? userAgent.reconnect() : userAgent.start(),
        CONNECT_TIMEOUT_MS,
        `no WebSocket connection in ${CONNECT_TIMEOUT_MS / 1000} s`,
      );
    } catch (error) {
      this.#scheduleRetry(userAgent, `cannot reach the gateway (${describe(error)})`);
      return;
    }
    if (userAgent !== this.#userAgent) return;
    try {
      await userAgent.register({
        onAccept: () => undefined, // the registration state says so
        onReject: (response) => this.#onRegisterRejected(userAgent, response),
      });
    } catch (error) {
      this.#scheduleRetry(userAgent, `REGISTER failed (${describe(error)})`);
    }
  }

  #onRegisterRejected(userAgent: PhoneUserAgent, response: RegisterResponse): void {
    if (userAgent !== this.#userAgent) return;
    const status = response.statusCode ?? 0;
    const what = `${status} ${response.reasonPhrase ?? ''}`.trim();
    if (status === 401 || status === 403 || status === 407) {
      // Retrying a wrong password only locks the account.
      this.#setStatus({
        status: 'failed',
        code: 'password_refused',
        reason: `the gateway refused the password (${what})`,
      });
      return;
    }
    this.#scheduleRetry(userAgent, `registration refused (${what})`, 'refused');
  }

  #scheduleRetry(
    userAgent: PhoneUserAgent,
    reason: string,
    code: 'unreachable' | 'refused' = 'unreachable',
  ): void {
    if (userAgent !== this.#userAgent || this.#retry !== undefined) return;
    this.#failures += 1;
    const delay = this.#policy.nextDelayMs(this.#failures);
    if (delay === null) {
      this.#setStatus({ status: 'failed', reason, code });
      return;
    }
    this.#setStatus({ status: 'reconnecting', reason, code });
    this.#retry = this.#setTimeout(() => {
      this.#retry = undefined;
      if (userAgent === this.#userAgent) void this.#connect(userAgent, true);
    }, delay);
  }

  // --- calls --------------------------------------------------------------

  #onInvite(userAgent: PhoneUserAgent, invitation: PhoneInvitation): void {
    if (userAgent !== this.#userAgent) {
      invitation.reject({ statusCode: 480 }).catch(() => undefined);
      return;
    }
    const callId = invitation.header(CALL_HEADER)?.trim();
    if (!callId || this.#calls.has(callId)) {
      // Not a call of the gateway's (or a repeat): the desk answers only calls it can show.
      invitation.reject({ statusCode: 486 }).catch(() => undefined);
      return;
    }
    const call: PhoneCall = { callId, invitation, state: 'ringing', microphone: undefined };
    this.#calls.set(callId, call);
    invitation.onStateChange((state) => this.#onSessionState(call, state));
    this.#events.emit('call', { callId, state: 'ringing' });
  }

  #onSessionState(call: PhoneCall, state: SipSessionState): void {
    if (call.state === 'ended') return;
    if (state === 'Established') {
      this.#move(call, 'connected');
      this.#applyTracks();
      const remote = call.invitation.remoteStream();
      if (remote) this.#events.emit('media', call.callId, remote);
    } else if (state === 'Terminated') {
      this.#end(call); // CANCEL before the answer, BYE after, or a failed accept
    }
  }

  #end(call: PhoneCall): void {
    if (call.state === 'ended') return;
    const wasConnected = call.state === 'connected';
    stopTracks(call.microphone);
    call.microphone = undefined;
    if (this.#calls.get(call.callId) === call) this.#calls.delete(call.callId);
    if (wasConnected && ![...this.#calls.values()].some((c) => c.state === 'connected')) {
      this.#muted = false;
      this.#held = false;
    }
    this.#move(call, 'ended');
  }

  #move(call: PhoneCall, state: PhoneCallState): void {
    if (call.state === state) return;
    call.state = state;
    this.#events.emit('call', { callId: call.callId, state });
  }

  #microphoneForAnswer(): Promise<MediaStream> {
    const microphone = this.#answering?.microphone;
    return microphone ? Promise.resolve(microphone) : this.#deps.getUserMedia({ audio: true });
  }

  #applyTracks(): void {
    for (const call of this.#calls.values()) {
      if (call.state === 'connected')
        call.invitation.setTracks(!this.#muted && !this.#held, !this.#held);
    }
  }

  #setStatus(change: PhoneStatusChange): void {
    const same =
      change.status === this.#status.status &&
      change.reason === this.#status.reason &&
      change.code === this.#status.code;
    if (same) return;
    this.#status = change;
    this.#events.emit('status', change);
  }
}

/** A call's state, read afresh (TypeScript keeps the narrowing of an earlier check across awaits). */
const stateOf = (call: PhoneCall): PhoneCallState => call.state;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
