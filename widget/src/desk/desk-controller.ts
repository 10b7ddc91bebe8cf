/**
 * The desk's behaviour as a Lit ReactiveController: what the agent does
 * (availability, the softphone, answering, chat) and the view the element
 * renders, over its parts, one job each: the session (`desk-session.ts`:
 * sign-in, cookie, expiry, suspend), the live call feed (`desk-calls.ts`:
 * rings, the call in progress and its chat, joining the gateway's events and
 * the softphone's sessions), what flows and callbacks do live
 * (`live-activity.ts`), and the ring tone and timer (`desk-timers.ts`). It
 * routes the events socket's frames to them and fires the element's DOM
 * events. Everything it drives is passed in, so a unit test runs it with a
 * fake host, fetch, WebSocket and SIP stack.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Tone } from '../client/ringback.js';
import { DeskApiError } from './desk-api-error.js';
import { DeskCallActions } from './desk-call-actions.js';
import { DeskCalls } from './desk-calls.js';
import type { DeskClient, DeskConnection } from './desk-client.js';
import type { DeskErrorDetail, DeskStateDetail } from './desk-events.js';
import type {
  Availability,
  CallSummary,
  DeskAgent,
  DeskEvent,
  SipSettings,
} from './desk-protocol.js';
import { DeskSession } from './desk-session.js';
import { RingTone, Ticker } from './desk-timers.js';
import type * as View from './desk-view.js';
import { LiveActivity } from './live-activity.js';
import type { Softphone } from './softphone.js';
import type { PhoneStatusChange } from './softphone-types.js';

export type * from './desk-view.js';

export interface DeskControllerDeps {
  readonly client: DeskClient;
  readonly phone: Softphone;
  /** The ring of a call arriving on this browser. */
  readonly ringTone?: () => Tone;
  /** Wall-clock milliseconds. */
  readonly now?: () => number;
  /** Where "Use this browser as my phone" is remembered (never the password). */
  readonly preferences?: View.DeskPreferences;
  readonly setInterval?: (callback: () => void, ms: number) => unknown;
  readonly clearInterval?: (handle: unknown) => void;
}

type Host = ReactiveControllerHost & EventTarget & { readonly isConnected?: boolean };

const SOFTPHONE_PREFERENCE = 'parley-desk.softphone';

export class DeskController implements ReactiveController {
  connection: DeskConnection = 'closed';
  /** "Use this browser as my phone". */
  softphone: boolean;
  phone: PhoneStatusChange;
  recent: readonly CallSummary[] = [];
  recentError: string | undefined;
  /** The latest problem to show (dismissable). */
  error: DeskErrorDetail | undefined;
  /** Flows and callbacks the desk follows live (`flow` and `callback` frames). */
  readonly live = new LiveActivity();

  readonly #host: Host;
  readonly #deps: DeskControllerDeps;
  readonly #now: () => number;
  readonly #session: DeskSession;
  readonly #calls: DeskCalls;
  readonly #actions: DeskCallActions;
  readonly #tone: RingTone;
  readonly #ticker: Ticker;
  #wasOpen = false;
  #lastState = '';
  #unsubscribe: (() => void)[] = [];

  constructor(host: Host, deps: DeskControllerDeps) {
    this.#host = host;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.softphone = deps.preferences?.get(SOFTPHONE_PREFERENCE) !== 'off';
    this.phone = deps.phone.status;
    const fire = <T>(type: string, detail: T) => this.#fire(type, detail);
    const changed = () => this.#update();
    this.#session = new DeskSession({
      client: deps.client,
      phone: deps.phone,
      softphone: () => this.softphone,
      fire,
      changed,
      connecting: () => (this.#wasOpen = false),
      entered: () => void this.refreshRecent(),
      left: () => {
        this.#calls.clear();
        this.live.clear();
        this.recent = [];
        this.error = undefined;
        this.#tone.stop();
        this.#update();
      },
    });
    this.#calls = new DeskCalls({
      client: deps.client,
      phone: deps.phone,
      now: this.#now,
      fire,
      changed,
      // The call's timer stops with the next render (#update).
      ended: () => void this.refreshRecent(),
      connected: () => this.connection === 'open',
    });
    this.#actions = new DeskCallActions({
      client: deps.client,
      phone: deps.phone,
      calls: this.#calls,
      session: this.#session,
      fire,
      report: (error) => this.#report(error),
      rang: () => this.#syncTone(),
      changed,
    });
    this.#tone = new RingTone(deps.ringTone);
    this.#ticker = new Ticker(
      () => this.#host.requestUpdate(),
      deps.setInterval,
      deps.clearInterval,
    );
    host.addController(this);
  }

  // --- the view -----------------------------------------------------------

  get auth(): View.DeskAuth {
    return this.#session.auth;
  }

  get signInError(): string | undefined {
    return this.#session.signInError;
  }

  get agent(): DeskAgent | undefined {
    return this.#session.agent;
  }

  get sip(): SipSettings | undefined {
    return this.#session.sip;
  }

  get microphoneBlocked(): boolean {
    return this.#session.microphoneBlocked;
  }

  get ringing(): View.RingingCall[] {
    return this.#calls.ringing;
  }

  get active(): View.ActiveCall | undefined {
    return this.#calls.active;
  }

  get lastEnded(): View.EndedCall | undefined {
    return this.#calls.lastEnded;
  }

  /** What the live region says (incoming calls, answers, ends). */
  get announcement(): string {
    return this.#calls.announcement;
  }

  get remoteStream(): MediaStream | undefined {
    return this.#calls.remoteStream;
  }

  get muted(): boolean {
    return this.#deps.phone.muted;
  }

  get held(): boolean {
    return this.#deps.phone.held;
  }

  /** The softphone is on but has no password (after a reload) or the gateway refused it. */
  get needsPassword(): boolean {
    return this.#session.needsPassword;
  }

  /** Wall-clock now, for the element's timers. */
  now(): number {
    return this.#now();
  }

  // --- lifecycle ----------------------------------------------------------

  hostConnected(): void {
    if (this.#unsubscribe.length === 0) this.#subscribe();
    if (this.auth === 'checking') {
      void this.#session.check();
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
    if (this.#session.suspend()) this.#tone.stop();
  }

  /** Connects again after suspend() (the page came back from the back-forward cache). */
  resume(): void {
    this.#session.resume();
  }

  // --- what the agent does ------------------------------------------------

  signIn(username: string, password: string): Promise<void> {
    return this.#session.signIn(username, password);
  }

  signOut(): Promise<void> {
    return this.#session.signOut();
  }

  async setAvailability(value: Availability): Promise<void> {
    try {
      this.#session.agent = await this.#deps.client.setAvailability(value);
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
    if (enabled) void this.#session.startPhone();
    else {
      void this.#deps.phone.stop();
      this.#syncTone();
    }
    this.#update();
  }

  /** The password for the softphone, when the desk resumed a session without it. */
  providePassword(password: string): void {
    this.#session.providePassword(password);
  }

  answer(callId: string): Promise<void> {
    return this.#actions.answer(callId);
  }

  decline(callId: string): Promise<void> {
    return this.#actions.decline(callId);
  }

  hangup(): Promise<void> {
    return this.#actions.hangup();
  }

  toggleMute(): void {
    this.#actions.toggleMute();
  }

  toggleHold(): void {
    this.#actions.toggleHold();
  }

  /** Sends a chat message to the visitor; false when it could not go (the chat says why). */
  sendChat(text: string): boolean {
    return this.#actions.sendChat(text);
  }

  async refreshRecent(): Promise<void> {
    if (this.auth !== 'signed-in') return;
    try {
      this.recent = await this.#deps.client.recentCalls();
      this.recentError = undefined;
    } catch (error) {
      if (error instanceof DeskApiError && error.unauthorized) return this.#session.expired();
      this.recentError = 'Recent calls could not be loaded.';
    }
    this.#update();
  }

  dismissError(): void {
    this.error = undefined;
    this.#update();
  }

  // --- events -------------------------------------------------------------

  #subscribe(): void {
    const { client, phone } = this.#deps;
    this.#unsubscribe = [
      client.on('event', (event) => this.#onEvent(event)),
      client.on('connection', (state) => this.#onConnection(state)),
      client.on('unauthorized', () => void this.#session.expired()),
      phone.on('status', (status) => {
        this.phone = status;
        if (status.status === 'failed')
          this.#fire<DeskErrorDetail>('parley-desk-error', {
            code: 'phone_failed',
            message: status.reason ?? 'not registered',
          });
        this.#update();
      }),
      phone.on('call', (change) => {
        this.#calls.phoneCall(change);
        this.#syncTone();
        this.#update();
      }),
      phone.on('media', (callId, stream) => this.#calls.media(callId, stream)),
    ];
  }

  #onEvent(event: DeskEvent): void {
    if (event.type === 'presence') this.#session.agent = event.agent;
    else if (event.type === 'flow') this.live.flow(event.event);
    else if (event.type === 'callback') this.live.callback(event.callback);
    else if (event.type === 'queue') this.live.queue(event.queue);
    else this.#calls.frame(event);
    this.#syncTone();
    this.#update();
  }

  #onConnection(state: DeskConnection): void {
    this.connection = state;
    if (state === 'open') {
      if (this.#wasOpen) void this.#calls.resync();
      this.#wasOpen = true;
    }
    this.#update();
  }

  // --- plumbing -----------------------------------------------------------

  #apiFailed(error: unknown, what: string): void {
    if (error instanceof DeskApiError && error.unauthorized) {
      void this.#session.expired();
      return;
    }
    const message = `${what}${error instanceof Error ? `: ${error.message}` : ''}.`;
    this.#report({ code: 'api_failed', message });
  }

  #report(error: DeskErrorDetail | undefined): void {
    this.error = error;
    if (!error) return;
    this.#fire<DeskErrorDetail>('parley-desk-error', error);
    this.#update();
  }

  /** The ring tone plays while a call rings and this browser is the phone. */
  #syncTone(): void {
    this.#tone.set(this.softphone && this.auth === 'signed-in' && this.#calls.anyRinging);
  }

  /** A once-a-second render while a call timer or a wrap-up countdown shows. */
  #syncTicker(stop = false): void {
    this.#ticker.set(
      !stop && (this.#calls.callId !== undefined || this.agent?.wrapUpUntil != null),
    );
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
