/**
 * One visitor's calls, without a framework or a DOM: the state machine of
 * `../api/call-state.ts` over sip.js (through the SipStack seam), the token
 * endpoint, the microphone, the ringback tone and the message channel.
 * Everything it touches is passed in, so a unit test drives it with fakes.
 *
 * One attempt at a time; `call()` again after `ended` or `error` starts a new
 * attempt with a new token, WebSocket and peer connection. Whatever an attempt
 * owns (microphone, tone, user agent, session, data channel) is released when
 * it ends, and late events of an old attempt are ignored.
 */
import { ERROR_CODES, ParleyError, humanMessage, isErrorCode } from '@parley/shared/errors';
import { reasonCode, type ParleyMessage } from '@parley/shared/protocol';
import type {
  CallClientApi,
  CallClientEvents,
  CallClientOptions,
  CallStateChange,
  DtmfDigit,
} from '../api/call-stack.js';
import { canTransition, type CallState } from '../api/call-state.js';
import { MessageRejectedError } from '../api/message-rejected-error.js';
import { Attempt, stopTracks } from './attempt.js';
import type { FetchLike } from './call-token.js';
import { TokenPrefetch } from './token-prefetch.js';
import { WarmConnection } from './warm-connection.js';
import { destination, inviteRequest, tokenRequest } from './call-request.js';
import { QUEUE_PATTERN, REBIND_HEADER } from './defaults.js';
import { dtmfRelayBody, isDtmfDigit } from './dtmf.js';
import { carriesEarlyMedia } from './early-media.js';
import { Emitter } from './emitter.js';
import { describe, knownCode, type Failure } from './failure.js';
import { connectionConfig } from './connection-config.js';
import { connectGateway, reopenIfDropped } from './gateway-connect.js';
import { MicrophonePermission, type QueryMicrophone } from './microphone-permission.js';
import { adoptChannel, encodeMessage, pageNavigation } from './message-channel.js';
import { type RecoveryHost, watchAttemptIce, webSocketDropped } from './network-recovery.js';
import type { Tone } from './ringback.js';
import type { SipBye, SipResponse, SipSessionState, SipStack } from './sip-stack.js';

export interface CallClientDeps {
  readonly sip: SipStack;
  readonly getUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  readonly fetch: FetchLike;
  readonly ringback: () => Tone;
  /** The page's URL: relative token and gateway URLs resolve against it. */
  readonly baseUrl: string;
  /** Monotonic milliseconds (`performance.now()`), for the call timer and the rate limit. */
  readonly now: () => number;
  /** Wall-clock milliseconds (`Date.now()`), for message timestamps. */
  readonly wallClock: () => number;
  readonly newId: () => string;
  /** The Permissions API's microphone query; absent, or throwing, the state stays unknown. */
  readonly microphonePermission?: QueryMicrophone;
}

export class CallClient implements CallClientApi {
  readonly #options: CallClientOptions;
  readonly #deps: CallClientDeps;
  readonly #events = new Emitter<CallClientEvents>();
  #state: CallState = 'idle';
  #muted = false;
  #connectedAt: number | undefined;
  #attempt: Attempt | undefined;
  readonly #tokens: TokenPrefetch;
  readonly #warm: WarmConnection;
  readonly #permission: MicrophonePermission;
  readonly #recovery: RecoveryHost;

  constructor(options: CallClientOptions, deps: CallClientDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#tokens = new TokenPrefetch(deps.fetch, deps.wallClock);
    this.#warm = new WarmConnection(deps.sip);
    this.#permission = new MicrophonePermission(deps.microphonePermission, (state) => {
      if (state === 'denied') this.#warm.close(); // no call can use it
      this.#events.emit('permission', state);
    });
    this.#recovery = {
      state: () => this.#state,
      transition: (change) => this.#transition(change),
      fail: (attempt, failure) => this.#fail(attempt, failure),
      policy: options.reconnect,
    };
  }

  get state(): CallState {
    return this.#state;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get connectedAt(): number | undefined {
    return this.#connectedAt;
  }

  on<K extends keyof CallClientEvents>(
    event: K,
    listener: (...args: CallClientEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * A call looks likely (hover, focus): the microphone permission is read and
   * watched (`microphone-permission.ts`), the SIP stack's code run once
   * (`SipStack.warm`); unless the microphone is blocked, the token is fetched
   * ahead (`token-prefetch.ts`) and, once it names the gateway, its WebSocket
   * opened (`warm-connection.ts`).
   */
  prefetch(): void {
    this.#deps.sip.warm();
    void this.#permission.watch().then(() => {
      // Blocked, a call can only fail: nothing is fetched or opened for it. The
      // state now, not the first one read: the visitor may have allowed it since.
      if (this.#permission.state !== 'denied') this.#warmConnection();
    });
  }

  #warmConnection(): void {
    const request = tokenRequest(this.#options, this.#deps.baseUrl);
    if (!request || !this.#between()) return;
    this.#tokens.prefetch(request).then(
      (token) => {
        if (!token.ok || !this.#between()) return;
        const config = connectionConfig(this.#options.gateway, token.gateway, this.#deps.baseUrl);
        try {
          if (config.ok) this.#warm.open(config);
        } catch {
          // Nothing opened ahead: the click opens its own.
        }
      },
      () => undefined, // dropped
    );
  }

  /** No attempt under way. */
  #between(): boolean {
    return this.#state === 'idle' || this.#state === 'ended' || this.#state === 'error';
  }

  async call(): Promise<void> {
    if (!this.#between()) return;
    const attempt = new Attempt(this.#deps.now);
    this.#attempt = attempt;
    this.#muted = false;
    this.#connectedAt = undefined;
    this.#transition({ state: 'permission' });
    try {
      await this.#run(attempt);
    } catch (error) {
      this.#fail(attempt, { code: 'call_failed', message: describe('call_failed', error) });
    }
  }

  async hangup(): Promise<void> {
    const attempt = this.#attempt;
    if (!attempt || attempt.over) return;
    attempt.over = true;
    this.#transition({ state: 'ended' });
    await this.#release(attempt);
  }

  async send(input: string | ParleyMessage): Promise<ParleyMessage> {
    const attempt = this.#attempt;
    if (!attempt || attempt.over || this.#state !== 'in-call')
      throw MessageRejectedError.notInCall();
    const channel = attempt.channel;
    if (!channel || channel.readyState !== 'open')
      throw new MessageRejectedError('channel_closed', 'the message channel is not open');
    const message: ParleyMessage =
      typeof input === 'string'
        ? {
            type: 'chat',
            id: this.#deps.newId(),
            at: new Date(this.#deps.wallClock()).toISOString(),
            text: input,
          }
        : input;
    const encoded = encodeMessage(message);
    if (!attempt.bucket.take())
      throw new MessageRejectedError('rate_limited', 'too many messages per second');
    channel.send(encoded.frame);
    return encoded.message;
  }

  async sendDtmf(digit: DtmfDigit): Promise<void> {
    if (!isDtmfDigit(digit))
      throw new ParleyError('bad_request', `not a DTMF digit: ${String(digit)}`);
    const session = this.#attempt?.session;
    if (this.#state !== 'in-call' || !session)
      throw new ParleyError('bad_request', 'DTMF needs a call in progress');
    await session.info({ requestOptions: { body: dtmfRelayBody(digit) } });
  }

  setMuted(muted: boolean): void {
    this.#muted = muted;
    this.#applyMute(this.#attempt?.stream);
  }

  dispose(): void {
    this.#permission.close();
    this.#tokens.close();
    this.#warm.close();
    void this.hangup();
    this.#events.clear();
  }

  // --- the attempt, step by step ---------------------------------------

  async #run(attempt: Attempt): Promise<void> {
    const queue = destination(this.#options);
    if (!this.#options.tokenUrl) {
      this.#fail(attempt, {
        code: 'invalid_config',
        message: describe('invalid_config', 'no token-url'),
      });
      return;
    }
    if (!QUEUE_PATTERN.test(queue)) {
      this.#fail(attempt, {
        code: 'unknown_queue',
        message: describe('unknown_queue', `queue name "${queue}"`),
      });
      return;
    }

    // 0. A microphone the browser blocks, read on hover: the reason at once, as a
    // refused getUserMedia gives it, and no token or WebSocket. Not read yet, the
    // click does not wait for it (5-35 ms in Chromium): getUserMedia decides.
    void this.#permission.watch();
    if (this.#permission.state === 'denied') {
      const message = describe('microphone_denied', 'the microphone permission is denied');
      return this.#fail(attempt, { code: 'microphone_denied', message });
    }

    // 1. The microphone, asked once (the same stream goes to sip.js), and at
    // the same time the token and the WebSocket (`gateway-connect.ts`).
    const grant = this.#deps.getUserMedia({ audio: true });
    const connecting = connectGateway(attempt, {
      options: this.#options,
      baseUrl: this.#deps.baseUrl,
      sip: this.#deps.sip,
      tokens: this.#tokens,
      warm: this.#warm,
      microphone: () => grant,
      onDisconnect: (error) => webSocketDropped(this.#recovery, attempt, error),
      fail: (failed, failure) => this.#fail(failed, failure),
    }).catch((error: unknown) => {
      this.#fail(attempt, { code: 'call_failed', message: describe('call_failed', error) });
      return undefined;
    });
    let stream: MediaStream;
    try {
      stream = await grant;
    } catch (error) {
      this.#fail(attempt, {
        code: 'microphone_denied',
        message: describe('microphone_denied', error),
      });
      return;
    }
    attempt.stream = stream;
    if (attempt.over) return void stopTracks(stream);
    this.#applyMute(stream);
    this.#transition({ state: 'connecting' });

    // 2. The token and the WebSocket, if they are not there yet.
    const connection = await connecting;
    if (connection === undefined || attempt.over) return;
    if (!(await reopenIfDropped(attempt, connection.userAgent, (a, f) => this.#fail(a, f)))) return;
    attempt.connected = true;

    // 3. The INVITE: audio, a data channel created before the offer, the token.
    const invite = inviteRequest(this.#options, connection.token, {
      onDataChannel: (channel) =>
        adoptChannel(attempt, channel, this.#events, () =>
          pageNavigation(this.#deps.newId, this.#deps.wallClock),
        ),
      onBye: (bye) => this.#onBye(attempt, bye),
    });
    const session = connection.userAgent.invite(invite.target, invite.options);
    attempt.session = session;
    session.onStateChange((state) => this.#onSessionState(attempt, state));
    await session.invite({
      requestDelegate: {
        onAccept: (response) => {
          attempt.rebindKey = response.message.getHeader(REBIND_HEADER)?.trim() || undefined;
        },
        onProgress: (response) => this.#onProgress(attempt, response),
        onReject: (response) => this.#onFinalFailure(attempt, response),
        onRedirect: (response) => this.#onFinalFailure(attempt, response),
      },
    });
  }

  #onProgress(attempt: Attempt, response: SipResponse): void {
    if (attempt.over) return;
    const status = response.message.statusCode ?? 0;
    if (status <= 100 || status >= 200) return;
    const early = carriesEarlyMedia(response);
    // The gateway's media from now on (a carrier's ringback or announcement, a prompt):
    // played at once, not from the answer on, or the visitor would hear silence.
    if (early) this.#earlyMedia(attempt);
    if (this.#state !== 'connecting') return;
    this.#transition({ state: 'ringing' });
    if (early) return;
    attempt.tone = this.#deps.ringback();
    attempt.tone.start();
  }

  /** Early media (183 with SDP): the widget's own ringback stops, the gateway's stream plays. */
  #earlyMedia(attempt: Attempt): void {
    attempt.tone?.stop();
    const remote = attempt.session?.remoteStream();
    if (remote) this.#events.emit('media', remote);
  }

  /** A 3xx-6xx final response; its Reason header carries the Parley code. */
  #onFinalFailure(attempt: Attempt, response: SipResponse): void {
    const { statusCode, reasonPhrase } = response.message;
    const code = knownCode(reasonCode(response.message.getHeader('Reason')));
    this.#fail(attempt, {
      code,
      message: describe(code, `SIP ${statusCode ?? '?'} ${reasonPhrase ?? ''}`.trim()),
    });
  }

  /** The other side hung up. A Reason with an error code (media_timeout, gateway_shutdown) is an error. */
  #onBye(attempt: Attempt, bye: SipBye): void {
    // With a delegate set, sip.js leaves answering the BYE to us (api/session.js onByeRequest).
    bye.accept().catch(() => undefined);
    if (attempt.over) return;
    const code = reasonCode(bye.request.getHeader('Reason'));
    if (code !== undefined && isErrorCode(code)) {
      this.#fail(attempt, { code, message: describe(code, 'BYE') });
      return;
    }
    attempt.over = true;
    this.#transition({ state: 'ended' });
    void this.#release(attempt);
  }

  #onSessionState(attempt: Attempt, state: SipSessionState): void {
    if (attempt.over) return;
    if (state === 'Established') {
      attempt.tone?.stop();
      this.#connectedAt = this.#deps.now();
      this.#transition({ state: 'in-call' });
      const remote = attempt.session?.remoteStream();
      if (remote) this.#events.emit('media', remote);
      watchAttemptIce(attempt);
      return;
    }
    // A reconnect in progress reports its own outcome (sip.js ends the dialog on a 481).
    if (state === 'Terminated' && this.#state !== 'reconnecting') {
      // sip.js moves the session to Terminated before it hands the final
      // response to our request delegate (api/inviter.js), and before a BYE's
      // delegate runs its course: decide once those had their say.
      queueMicrotask(() => {
        const code = attempt.connected ? 'call_failed' : 'network_lost';
        this.#fail(attempt, { code, message: describe(code, 'session terminated') });
      });
    }
  }

  // --- endings ------------------------------------------------------------

  #fail(attempt: Attempt, failure: Failure): void {
    if (attempt !== this.#attempt || attempt.over) return;
    attempt.over = true;
    const code = failure.code;
    this.#transition({
      state: 'error',
      code,
      message: failure.message || (isErrorCode(code) ? ERROR_CODES[code].message : code),
      human: failure.human || humanMessage(code),
      ...(failure.retryAfterSeconds === undefined
        ? {}
        : { retryAfterSeconds: failure.retryAfterSeconds }),
    });
    void this.#release(attempt);
  }

  /** Releases what the attempt holds; never rejects. */
  #release(attempt: Attempt): Promise<void> {
    return attempt.release(() => {
      if (attempt === this.#attempt) this.#events.emit('channel', false);
    });
  }

  #transition(change: CallStateChange): void {
    if (change.state === this.#state) return;
    if (!canTransition(this.#state, change.state)) {
      throw new ParleyError('internal', `call state ${this.#state} → ${change.state}`);
    }
    this.#state = change.state;
    this.#events.emit('state', change);
  }

  #applyMute(stream: MediaStream | undefined): void {
    for (const track of stream?.getAudioTracks() ?? []) track.enabled = !this.#muted;
  }
}
