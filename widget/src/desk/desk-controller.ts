/**
 * The desk's behaviour as a Lit ReactiveController: sign-in, the events
 * socket, the softphone, and the view the element renders (agent, ringing
 * calls, the call in progress with its chat, recent calls). It joins the two
 * sources of truth about a call, the gateway's desk events (`ring`,
 * `answered`, `ended`, keyed by call id) and the softphone's SIP sessions
 * (keyed by the same id, from `X-Parley-Call`), and fires the element's DOM
 * events. Everything it drives is passed in, so a unit test runs it with a
 * fake host, fetch, WebSocket and SIP stack.
 *
 * The password typed at sign-in is kept in this object only (never in
 * storage): the softphone needs it for digest authentication. After a page
 * reload the session cookie still signs the desk in, and the softphone asks
 * for the password again.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { NavigationMessage, StoredMessage } from '@parley/shared/protocol';
import type { Tone } from '../client/ringback.js';
import { DeskApiError } from './desk-api-error.js';
import type { DeskClient, DeskConnection } from './desk-client.js';
import type {
  DeskCallDetail,
  DeskErrorDetail,
  DeskMessageDetail,
  DeskStateDetail,
} from './desk-events.js';
import type {
  Availability,
  CallContext,
  CallSummary,
  DeskAgent,
  DeskEvent,
  SipSettings,
} from './desk-protocol.js';
import { CHAT_HISTORY } from './defaults.js';
import { describeMessage, latestPage, ringAnnouncement, signInErrorText } from './desk-text.js';
import type { PhoneCallChange, PhoneCallState, PhoneStatusChange, Softphone } from './softphone.js';
import { SoftphoneError } from './softphone-error.js';
import { LiveActivity } from './live-activity.js';

/** `checking`: asking the gateway whether the session cookie is still good. */
export type DeskAuth = 'checking' | 'signed-out' | 'signing-in' | 'signed-in';

export interface RingingCall {
  readonly callId: string;
  /** From the `ring` event; undefined while only the INVITE is here. */
  readonly context: CallContext | undefined;
  readonly page: NavigationMessage | undefined;
  /** The INVITE's state on this browser, if it came here. */
  readonly phone: PhoneCallState | undefined;
}

export interface ChatEntry {
  readonly key: string;
  readonly from: 'visitor' | 'agent' | 'event' | 'notice';
  readonly text: string;
}

export interface ActiveCall {
  readonly callId: string;
  readonly context: CallContext | undefined;
  /** Wall-clock ms when the desk learnt of the answer (the timer's zero). */
  readonly answeredAt: number;
  /** Answered by this browser's softphone (mute, hold and hang-up work here). */
  readonly here: boolean;
  /** Hung up here; the gateway's `ended` is on its way. */
  readonly ending: boolean;
  readonly chat: readonly ChatEntry[];
  readonly page: NavigationMessage | undefined;
}

export interface EndedCall {
  readonly callId: string;
  readonly context: CallContext | undefined;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly talkMs: number;
}

export interface DeskPreferences {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

export interface DeskControllerDeps {
  readonly client: DeskClient;
  readonly phone: Softphone;
  /** The ring of a call arriving on this browser. */
  readonly ringTone?: () => Tone;
  /** Wall-clock milliseconds. */
  readonly now?: () => number;
  /** Where "Use this browser as my phone" is remembered (never the password). */
  readonly preferences?: DeskPreferences;
  readonly setInterval?: (callback: () => void, ms: number) => unknown;
  readonly clearInterval?: (handle: unknown) => void;
}

type Host = ReactiveControllerHost & EventTarget & { readonly isConnected?: boolean };

interface RingEntry {
  context: CallContext | undefined;
  page: NavigationMessage | undefined;
  /** Came with a desk event (else only as an INVITE). */
  fromEvent: boolean;
}

interface CallEntry {
  readonly callId: string;
  context: CallContext | undefined;
  readonly answeredAt: number;
  entries: ChatEntry[];
  readonly seqs: Set<number>;
  messages: StoredMessage[];
  /** `parley-desk-call` `answered` was fired (it needs the context). */
  announced: boolean;
  /** The softphone's session of this call ended before the gateway's `ended`. */
  ending: boolean;
}

const SOFTPHONE_PREFERENCE = 'parley-desk.softphone';

export class DeskController implements ReactiveController {
  auth: DeskAuth = 'checking';
  signInError: string | undefined;
  agent: DeskAgent | undefined;
  sip: SipSettings | undefined;
  connection: DeskConnection = 'closed';
  /** "Use this browser as my phone". */
  softphone: boolean;
  phone: PhoneStatusChange;
  microphoneBlocked = false;
  recent: readonly CallSummary[] = [];
  recentError: string | undefined;
  lastEnded: EndedCall | undefined;
  /** The latest problem to show (dismissable). */
  error: DeskErrorDetail | undefined;
  /** What the live region says (incoming calls, answers, ends). */
  announcement = '';
  remoteStream: MediaStream | undefined;
  /** Flows and callbacks the desk follows live (`flow` and `callback` frames). */
  readonly live = new LiveActivity();

  readonly #host: Host;
  readonly #deps: DeskControllerDeps;
  readonly #now: () => number;
  readonly #rings = new Map<string, RingEntry>();
  #call: CallEntry | undefined;
  #password: string | undefined;
  #tone: Tone | undefined;
  #ticker: unknown;
  #wasOpen = false;
  #suspended = false;
  #lastState = '';
  #unsubscribe: (() => void)[] = [];
  #noticeCount = 0;

  constructor(host: Host, deps: DeskControllerDeps) {
    this.#host = host;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.softphone = deps.preferences?.get(SOFTPHONE_PREFERENCE) !== 'off';
    this.phone = deps.phone.status;
    host.addController(this);
  }

  // --- the view -----------------------------------------------------------

  get ringing(): RingingCall[] {
    return [...this.#rings].map(([callId, ring]) => ({
      callId,
      context: ring.context,
      page: ring.page,
      phone: this.#deps.phone.callState(callId),
    }));
  }

  get active(): ActiveCall | undefined {
    const call = this.#call;
    if (!call) return undefined;
    return {
      callId: call.callId,
      context: call.context,
      answeredAt: call.answeredAt,
      here: this.#deps.phone.callState(call.callId) === 'connected',
      ending: call.ending,
      chat: call.entries,
      page: latestPage(call.messages),
    };
  }

  get muted(): boolean {
    return this.#deps.phone.muted;
  }

  get held(): boolean {
    return this.#deps.phone.held;
  }

  /** The softphone is on but has no password (after a reload) or the gateway refused it. */
  get needsPassword(): boolean {
    if (!this.softphone || this.auth !== 'signed-in') return false;
    return this.#password === undefined || this.phone.code === 'password_refused';
  }

  /** Wall-clock now, for the element's timers. */
  now(): number {
    return this.#now();
  }

  // --- lifecycle ----------------------------------------------------------

  hostConnected(): void {
    if (this.#unsubscribe.length === 0) this.#subscribe();
    if (this.auth === 'checking') {
      void this.#resume();
    } else {
      this.resume();
    }
    this.#syncTicker();
  }

  hostDisconnected(): void {
    this.#syncTicker(true);
    // Moving the element disconnects and reconnects it at once: stop only if it stays out.
    queueMicrotask(() => {
      if (this.#host.isConnected !== false) return;
      this.suspend();
    });
  }

  /**
   * Lets go of the gateway (the element left the page, or the page is being
   * hidden: `pagehide`): the softphone unregisters, so the gateway stops
   * ringing a browser that is gone, and the events socket closes.
   */
  suspend(): void {
    if (this.auth !== 'signed-in' || this.#suspended) return;
    this.#suspended = true;
    this.#deps.client.disconnect();
    void this.#deps.phone.stop();
    this.#stopTone();
  }

  /** Connects again after suspend() (the page came back from the back-forward cache). */
  resume(): void {
    if (!this.#suspended || this.auth !== 'signed-in') return;
    this.#suspended = false;
    this.#wasOpen = false;
    this.#deps.client.connect();
    void this.#startPhone();
  }

  // --- what the agent does ------------------------------------------------

  async signIn(username: string, password: string): Promise<void> {
    if (this.auth === 'signing-in') return;
    if (!username.trim() || !password) {
      this.signInError = 'Enter your username and password.';
      this.#update();
      return;
    }
    this.auth = 'signing-in';
    this.signInError = undefined;
    this.#update();
    try {
      await this.#deps.client.login(username.trim(), password);
      const profile = await this.#deps.client.me();
      this.#password = password;
      this.#enter(profile.agent, profile.sip);
    } catch (error) {
      this.auth = 'signed-out';
      this.signInError =
        error instanceof DeskApiError ? signInErrorText(error) : `Sign-in failed: ${String(error)}`;
      this.#fire<DeskErrorDetail>('parley-desk-error', {
        code: 'sign_in_failed',
        message: this.signInError,
      });
      this.#update();
    }
  }

  async signOut(): Promise<void> {
    if (this.auth !== 'signed-in') return;
    await this.#deps.client.logout().catch(() => undefined);
    await this.#leave();
  }

  async setAvailability(value: Availability): Promise<void> {
    try {
      this.agent = await this.#deps.client.setAvailability(value);
      this.#update();
    } catch (error) {
      this.#apiFailed(error, 'Availability could not be changed');
    }
  }

  /** Turns "Use this browser as my phone" on or off (not during a call on this browser). */
  setSoftphone(enabled: boolean): void {
    if (enabled === this.softphone) return;
    if (!enabled && this.active?.here) return;
    this.softphone = enabled;
    this.#deps.preferences?.set(SOFTPHONE_PREFERENCE, enabled ? 'on' : 'off');
    if (enabled) void this.#startPhone();
    else {
      void this.#deps.phone.stop();
      this.#syncTone();
    }
    this.#update();
  }

  /** The password for the softphone, when the desk resumed a session without it. */
  providePassword(password: string): void {
    if (!password) return;
    this.#password = password;
    void this.#startPhone();
  }

  async answer(callId: string): Promise<void> {
    this.error = undefined;
    try {
      await this.#deps.phone.answer(callId);
    } catch (error) {
      const denied = error instanceof SoftphoneError && error.reason === 'microphone_denied';
      this.microphoneBlocked ||= denied;
      this.#report(
        denied ? 'microphone_denied' : 'answer_failed',
        denied
          ? 'The browser blocked the microphone. Allow it for this page and answer again.'
          : `The call could not be answered${error instanceof Error ? `: ${error.message}` : ''}.`,
      );
    }
    this.#update();
  }

  async decline(callId: string): Promise<void> {
    try {
      await this.#deps.phone.decline(callId);
    } catch {
      // no longer ringing here
    }
    if (this.#rings.delete(callId))
      this.#fire<DeskCallDetail>('parley-desk-call', { phase: 'ring-stopped', callId });
    this.#syncTone();
    this.#update();
  }

  async hangup(): Promise<void> {
    const call = this.#call;
    if (call) await this.#deps.phone.hangup(call.callId);
  }

  toggleMute(): void {
    this.#deps.phone.setMuted(!this.#deps.phone.muted);
    this.#update();
  }

  toggleHold(): void {
    const held = !this.#deps.phone.held;
    this.#deps.phone.setHeld(held);
    // The visitor hears silence on hold: the gateway tells their widget why.
    const call = this.#call;
    if (call) this.#deps.client.send({ type: 'hold', callId: call.callId, held });
    this.#update();
  }

  /** Sends a chat message to the visitor; false when it could not go (the chat says why). */
  sendChat(text: string): boolean {
    const call = this.#call;
    const trimmed = text.trim();
    if (!call || !trimmed) return false;
    if (trimmed.length > 2000) {
      this.#notice(call, 'Message not sent: it is longer than 2000 characters.');
      return false;
    }
    if (!this.#deps.client.send({ type: 'chat', callId: call.callId, text: trimmed })) {
      this.#notice(call, 'Message not sent: not connected to the gateway.');
      this.#fire<DeskErrorDetail>('parley-desk-error', {
        code: 'not_connected',
        message: 'not connected to the gateway',
      });
      return false;
    }
    return true; // it shows when the gateway relays it back, in its place
  }

  async refreshRecent(): Promise<void> {
    if (this.auth !== 'signed-in') return;
    try {
      this.recent = await this.#deps.client.recentCalls();
      this.recentError = undefined;
    } catch (error) {
      if (error instanceof DeskApiError && error.unauthorized) return this.#expired();
      this.recentError = 'Recent calls could not be loaded.';
    }
    this.#update();
  }

  dismissError(): void {
    this.error = undefined;
    this.#update();
  }

  // --- session ------------------------------------------------------------

  async #resume(): Promise<void> {
    try {
      const profile = await this.#deps.client.me();
      this.#enter(profile.agent, profile.sip);
    } catch (error) {
      this.auth = 'signed-out';
      if (!(error instanceof DeskApiError && error.unauthorized))
        this.signInError =
          error instanceof DeskApiError ? signInErrorText(error) : 'The desk could not start.';
      this.#update();
    }
  }

  #enter(agent: DeskAgent, sip: SipSettings): void {
    this.auth = 'signed-in';
    this.agent = agent;
    this.sip = sip;
    this.signInError = undefined;
    this.#wasOpen = false;
    this.#suspended = false;
    this.#deps.client.connect();
    void this.#startPhone(true);
    void this.refreshRecent();
    this.#update();
  }

  async #leave(message?: string): Promise<void> {
    this.#deps.client.disconnect();
    this.#password = undefined;
    await this.#deps.phone.stop();
    this.auth = 'signed-out';
    this.agent = undefined;
    this.sip = undefined;
    this.#rings.clear();
    this.live.clear();
    this.#call = undefined;
    this.remoteStream = undefined;
    this.lastEnded = undefined;
    this.recent = [];
    this.error = undefined;
    this.announcement = '';
    this.microphoneBlocked = false;
    this.signInError = message;
    this.#stopTone();
    this.#update();
  }

  async #expired(): Promise<void> {
    if (this.auth !== 'signed-in') return;
    const message = 'Your session has expired. Please sign in again.';
    this.#fire<DeskErrorDetail>('parley-desk-error', { code: 'session_expired', message });
    await this.#leave(message);
  }

  async #startPhone(checkMicrophone = false): Promise<void> {
    const sip = this.sip;
    if (!this.softphone || !sip || this.#password === undefined || this.auth !== 'signed-in')
      return;
    const phone = this.#deps.phone;
    await phone.start({
      ...sip,
      password: this.#password,
      ...(this.agent ? { displayName: this.agent.displayName } : {}),
    });
    if (checkMicrophone) {
      // Ask now, at sign-in, rather than while a call rings.
      this.microphoneBlocked = !(await phone.checkMicrophone());
      this.#update();
    }
  }

  // --- events -------------------------------------------------------------

  #subscribe(): void {
    const { client, phone } = this.#deps;
    this.#unsubscribe = [
      client.on('event', (event) => this.#onEvent(event)),
      client.on('connection', (state) => this.#onConnection(state)),
      client.on('unauthorized', () => void this.#expired()),
      phone.on('status', (status) => {
        this.phone = status;
        if (status.status === 'failed')
          this.#fire<DeskErrorDetail>('parley-desk-error', {
            code: 'phone_failed',
            message: status.reason ?? 'not registered',
          });
        this.#update();
      }),
      phone.on('call', (change) => this.#onPhoneCall(change)),
      phone.on('media', (callId, stream) => {
        if (this.#call?.callId !== callId) return;
        this.remoteStream = stream;
        this.#update();
      }),
    ];
  }

  #onEvent(event: DeskEvent): void {
    switch (event.type) {
      case 'presence':
        this.agent = event.agent;
        break;
      case 'ring':
        this.#onRing(event.call);
        break;
      case 'ring-stopped':
        if (this.#rings.delete(event.callId))
          this.#fire<DeskCallDetail>('parley-desk-call', {
            phase: 'ring-stopped',
            callId: event.callId,
          });
        break;
      case 'answered':
        this.#onAnswered(event.call.callId, event.call);
        break;
      case 'message':
        this.#onMessage(event.callId, event.stored);
        break;
      case 'ended':
        this.#onEnded(event.callId, event.outcome, event.reason);
        break;
      case 'flow':
        this.live.flow(event.event);
        break;
      case 'callback':
        this.live.callback(event.callback);
        break;
      case 'queue':
        this.live.queue(event.queue);
        break;
      case 'notice': {
        const text = `Message not sent: ${event.reason}.`;
        if (this.#call) this.#notice(this.#call, text);
        this.#fire<DeskErrorDetail>('parley-desk-error', {
          code: 'message_rejected',
          message: text,
        });
        break;
      }
    }
    this.#syncTone();
    this.#update();
  }

  #onRing(context: CallContext): void {
    if (this.#call?.callId === context.callId) return; // already answered (a replay after reconnect)
    const known = this.#rings.get(context.callId);
    this.#rings.set(context.callId, {
      context,
      page: known?.page,
      fromEvent: true,
    });
    if (known?.context) return;
    this.lastEnded = undefined;
    this.announcement = ringAnnouncement(context);
    this.#fire<DeskCallDetail>('parley-desk-call', {
      phase: 'ringing',
      callId: context.callId,
      call: context,
    });
    void this.#loadPage(context.callId);
  }

  /** The visitor's latest page, from the messages stored so far (best effort). */
  async #loadPage(callId: string): Promise<void> {
    try {
      const detail = await this.#deps.client.callDetail(callId);
      const ring = this.#rings.get(callId);
      if (ring) {
        ring.page = latestPage(detail.messages) ?? ring.page;
        if (!ring.context && detail.context) {
          ring.context = detail.context;
          this.announcement = ringAnnouncement(detail.context);
        }
      } else if (this.#call?.callId === callId) {
        for (const stored of detail.messages) this.#addMessage(this.#call, stored);
        this.#call.context ??= detail.context ?? undefined;
      }
      this.#update();
    } catch {
      // the ring panel shows what the ring event had
    }
  }

  #onAnswered(callId: string, context: CallContext | undefined): void {
    const ring = this.#rings.get(callId);
    this.#rings.delete(callId);
    let call = this.#call;
    if (call?.callId !== callId) {
      call = {
        callId,
        context: context ?? ring?.context,
        answeredAt: this.#now(),
        entries: [],
        seqs: new Set(),
        messages: [],
        announced: false,
        ending: false,
      };
      this.#call = call;
      this.remoteStream = this.#deps.phone.remoteStream(callId);
      this.lastEnded = undefined;
      this.announcement = 'Call connected.';
      this.#syncTicker();
    }
    call.context ??= context;
    if (call.context && !call.announced) {
      call.announced = true;
      const here = this.#deps.phone.callState(callId) === 'connected';
      this.#fire<DeskCallDetail>('parley-desk-call', {
        phase: 'answered',
        callId,
        call: call.context,
        here,
      });
    }
  }

  #onMessage(callId: string, stored: StoredMessage): void {
    const call = this.#call;
    if (call?.callId === callId) {
      if (!this.#addMessage(call, stored)) return;
    } else {
      const ring = this.#rings.get(callId);
      if (!ring) return;
      if (stored.from === 'visitor' && stored.message.type === 'navigation')
        ring.page = stored.message;
    }
    this.#fire<DeskMessageDetail>('parley-desk-message', { callId, stored });
  }

  /** Adds a message in its place by `seq`; false for one seen before (replays after a reconnect). */
  #addMessage(call: CallEntry, stored: StoredMessage): boolean {
    if (call.seqs.has(stored.seq)) return false;
    call.seqs.add(stored.seq);
    call.messages = [...call.messages, stored].sort((a, b) => a.seq - b.seq);
    const { from, text } = describeMessage(stored);
    const entry: ChatEntry = { key: `m${stored.seq}`, from, text };
    const entries = [...call.entries];
    const after = entries.findIndex(
      (e) => e.key.startsWith('m') && Number(e.key.slice(1)) > stored.seq,
    );
    if (after === -1) entries.push(entry);
    else entries.splice(after, 0, entry);
    call.entries = entries.slice(-CHAT_HISTORY);
    return true;
  }

  #notice(call: CallEntry, text: string): void {
    call.entries = [
      ...call.entries,
      { key: `n${++this.#noticeCount}`, from: 'notice' as const, text },
    ].slice(-CHAT_HISTORY);
    this.#update();
  }

  #onEnded(callId: string, outcome: string | null, reason: string | null): void {
    const ring = this.#rings.get(callId);
    this.#rings.delete(callId);
    const call = this.#call;
    if (call?.callId === callId) {
      this.lastEnded = {
        callId,
        context: call.context,
        outcome,
        reason,
        talkMs: Math.max(0, this.#now() - call.answeredAt),
      };
      this.#call = undefined;
      this.remoteStream = undefined;
      this.announcement = 'Call ended.';
    } else if (this.lastEnded?.callId === callId) {
      // Ended on the phone first; now the gateway says how.
      this.lastEnded = { ...this.lastEnded, outcome, reason };
    } else if (!ring) {
      return;
    }
    this.#fire<DeskCallDetail>('parley-desk-call', { phase: 'ended', callId, outcome, reason });
    this.#syncTicker();
    void this.refreshRecent();
  }

  #onConnection(state: DeskConnection): void {
    this.connection = state;
    if (state === 'open') {
      if (this.#wasOpen) void this.#resync();
      this.#wasOpen = true;
    }
    this.#update();
  }

  /**
   * After a reconnect the gateway sends the agent's presence, the calls
   * ringing for it and its call in progress again: forget rings it does not
   * repeat, and ask whether the call in progress ended meanwhile.
   */
  async #resync(): Promise<void> {
    for (const [callId, ring] of this.#rings) {
      if (ring.fromEvent && this.#deps.phone.callState(callId) === undefined)
        this.#rings.delete(callId);
    }
    const call = this.#call;
    if (!call) return;
    try {
      const detail = await this.#deps.client.callDetail(call.callId);
      if (detail.endedAt !== null && this.#call === call)
        this.#onEnded(call.callId, detail.outcome, detail.reason);
      else for (const stored of detail.messages) this.#addMessage(call, stored);
    } catch {
      // the next event will tell
    }
    this.#update();
  }

  #onPhoneCall(change: PhoneCallChange): void {
    const { callId, state } = change;
    if (state === 'ringing' && !this.#rings.has(callId) && this.#call?.callId !== callId) {
      // The INVITE came before the ring event (two sockets, no order between them).
      this.#rings.set(callId, { context: undefined, page: undefined, fromEvent: false });
      this.lastEnded = undefined;
      this.announcement = 'Incoming call.';
      void this.#loadPage(callId);
    } else if (state === 'connected') {
      this.#onAnswered(callId, undefined);
      this.remoteStream = this.#deps.phone.remoteStream(callId) ?? this.remoteStream;
    } else if (state === 'ended') {
      const ring = this.#rings.get(callId);
      if (ring && !ring.fromEvent) this.#rings.delete(callId);
      const call = this.#call;
      if (call?.callId === callId) {
        call.ending = true;
        // Without the events socket no `ended` will come: end it here.
        if (this.connection !== 'open') this.#onEnded(callId, null, null);
      }
    }
    this.#syncTone();
    this.#update();
  }

  // --- plumbing -----------------------------------------------------------

  #apiFailed(error: unknown, what: string): void {
    if (error instanceof DeskApiError && error.unauthorized) {
      void this.#expired();
      return;
    }
    this.#report('api_failed', `${what}${error instanceof Error ? `: ${error.message}` : ''}.`);
  }

  #report(code: string, message: string): void {
    this.error = { code, message };
    this.#fire<DeskErrorDetail>('parley-desk-error', this.error);
    this.#update();
  }

  /** The ring tone plays while a call rings and this browser is the phone. */
  #syncTone(): void {
    const ring = this.softphone && this.auth === 'signed-in' && this.#rings.size > 0;
    if (ring && !this.#tone && this.#deps.ringTone) {
      this.#tone = this.#deps.ringTone();
      this.#tone.start();
    } else if (!ring) {
      this.#stopTone();
    }
  }

  #stopTone(): void {
    this.#tone?.stop();
    this.#tone = undefined;
  }

  /** A once-a-second render while a call timer or a wrap-up countdown shows. */
  #syncTicker(stop = false): void {
    const run = !stop && (this.#call !== undefined || this.agent?.wrapUpUntil != null);
    if (run && this.#ticker === undefined) {
      const every = this.#deps.setInterval ?? ((callback, ms) => setInterval(callback, ms));
      this.#ticker = every(() => this.#host.requestUpdate(), 1000);
    } else if (!run && this.#ticker !== undefined) {
      const clear =
        this.#deps.clearInterval ??
        ((handle) => clearInterval(handle as ReturnType<typeof setInterval>));
      clear(this.#ticker);
      this.#ticker = undefined;
    }
  }

  #update(): void {
    this.#syncTicker();
    this.#host.requestUpdate();
    const detail: DeskStateDetail = {
      signedIn: this.auth === 'signed-in',
      agent: this.agent ?? null,
      connection: this.connection,
      softphone: this.softphone,
      phone: this.phone.status,
    };
    const key = JSON.stringify(detail);
    if (key === this.#lastState) return;
    this.#lastState = key;
    this.#fire('parley-desk-state', detail);
  }

  #fire<T>(type: string, detail: T): void {
    this.#host.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }
}
