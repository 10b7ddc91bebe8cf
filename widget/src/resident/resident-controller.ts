/**
 * The behaviour of `<parley-resident-phone>`, as a Lit ReactiveController
 * over the device API (`ResidentClient`) and the desk's `Softphone` (sip.js
 * registered over the gateway's WebSocket). No agent features, no dialling:
 *
 * ```
 *  setup ─credential─▶ connecting ─▶ resident-sign-in ─PIN─▶ idle ◀─────────────────┐
 *                                         ▲                   │ INVITE               │
 *                                         └──── sign out ─────┤                      │
 *                                                             ▼                      │
 *                      ringing (caller's name, PIN pad) ─PIN─▶ checked by the gateway│
 *                          │ wrong: ringing again; locked / unknown call: declined ──┤
 *                          ▼ right: a ticket, answered with it in the 200 OK         │
 *                         call ─────── hang up / BYE ─────────────────────────────────┘
 * ```
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Tone } from '../client/ringback.js';
import { DeskApiError } from '../desk/desk-api-error.js';
import type { Softphone } from '../desk/softphone.js';
import type { PhoneCallChange, PhoneStatusChange } from '../desk/softphone-types.js';
import type { DeviceCredential, DeviceSession, ResidentClient } from './resident-client.js';

export type ResidentPhase =
  'setup' | 'connecting' | 'resident-sign-in' | 'idle' | 'ringing' | 'call' | 'failed';

export interface RingingCall {
  readonly callId: string;
  readonly callerName: string;
  /** The PIN is being checked, or the call answered. */
  busy: boolean;
  /** Why the last PIN was refused, in words. */
  error: string | undefined;
}

export interface ActiveCall {
  readonly callId: string;
  readonly callerName: string;
  readonly since: number;
}

export interface ResidentControllerDeps {
  readonly client: ResidentClient;
  readonly phone: Softphone;
  readonly ringTone?: () => Tone;
  readonly now?: () => number;
  /** Tells the page (the element dispatches `parley-resident-*` events). */
  readonly notify?: (event: 'state' | 'call' | 'error', detail: Record<string, unknown>) => void;
}

const UNKNOWN_CALLER = 'Unknown caller';

export class ResidentController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #d: ResidentControllerDeps;
  readonly #now: () => number;
  #unsubscribe: (() => void)[] = [];
  #tone: Tone | undefined;

  phase: ResidentPhase = 'setup';
  device: DeviceSession['device'] | undefined;
  resident: { readonly id: string | null; readonly name: string | null } | undefined;
  phoneStatus: PhoneStatusChange = { status: 'off' };
  ringing: RingingCall | undefined;
  call: ActiveCall | undefined;
  /** The last problem of setup or sign-in, in words. */
  error: string | undefined;
  /** For screen readers: what just happened. */
  announcement = '';
  busy = false;

  constructor(host: ReactiveControllerHost, deps: ResidentControllerDeps) {
    this.#host = host;
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    host.addController(this);
  }

  hostConnected(): void {
    const { phone } = this.#d;
    this.#unsubscribe = [
      phone.on('status', (s) => this.#onStatus(s)),
      phone.on('call', (c) => this.#onCall(c)),
      phone.on('media', () => this.#changed()),
    ];
  }

  hostDisconnected(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#stopTone();
    void this.#d.phone.stop();
  }

  get remoteStream(): MediaStream | undefined {
    return this.call ? this.#d.phone.remoteStream(this.call.callId) : undefined;
  }

  /** Signs the device in with its credential and registers it as a phone. */
  async start(credential: DeviceCredential): Promise<void> {
    this.#set('connecting', { error: undefined });
    this.busy = true;
    try {
      const session = await this.#d.client.signInDevice(credential);
      this.device = session.device;
      const gateway = new URL(this.#d.client.gatewayUrl);
      gateway.protocol = gateway.protocol === 'https:' ? 'wss:' : 'ws:';
      await this.#d.phone.start({
        wsUrl: new URL(session.sip.wsPath, gateway).href,
        domain: session.sip.domain,
        username: session.sip.username,
        password: credential.secret,
        userAgentString: 'Parley resident',
      });
      const state = await this.#d.client.state();
      this.resident = state.signedIn
        ? { id: state.signedIn.residentId, name: state.signedIn.name }
        : undefined;
      this.#set(this.resident ? 'idle' : 'resident-sign-in');
    } catch (error) {
      this.#set('setup', { error: describe(error, 'setup') });
      this.#d.notify?.('error', { code: codeOf(error), message: this.error });
    } finally {
      this.busy = false;
      this.#changed();
    }
  }

  /** The resident signs in on this device with their PIN (and their number on a shared one). */
  async signIn(pin: string, resident?: string): Promise<void> {
    this.busy = true;
    this.error = undefined;
    this.#changed();
    try {
      const result = await this.#d.client.signInResident(pin, resident || undefined);
      this.resident = result.resident;
      this.#set('idle', { announcement: `Signed in as ${result.resident.name ?? 'resident'}` });
    } catch (error) {
      this.error = describe(error, 'sign-in');
      this.#d.notify?.('error', { code: codeOf(error), message: this.error });
    } finally {
      this.busy = false;
      this.#changed();
    }
  }

  async signOut(): Promise<void> {
    await this.#d.client.signOutResident().catch(() => undefined);
    this.resident = undefined;
    this.#set('resident-sign-in', { announcement: 'Signed out' });
  }

  /**
   * Sends the PIN to the gateway for re-verification; with its ticket, answers
   * (the 200 OK carries the ticket, which the gateway takes before connecting).
   */
  async answer(pin: string): Promise<void> {
    const ringing = this.ringing;
    if (!ringing || ringing.busy) return;
    ringing.busy = true;
    ringing.error = undefined;
    this.#changed();
    try {
      const { ticket, header } = await this.#d.client.submitPin(ringing.callId, pin);
      this.#stopTone();
      await this.#d.phone.answer(ringing.callId, { extraHeaders: [`${header}: ${ticket}`] });
    } catch (error) {
      ringing.busy = false;
      ringing.error = describe(error, 'pin');
      this.#d.notify?.('error', { code: codeOf(error), message: ringing.error });
      const code = codeOf(error);
      // Locked, or a call the gateway does not know: this call cannot be taken here.
      if (code === 'pin_locked' || code === 'not_found') await this.decline();
      this.#changed();
    }
  }

  async decline(): Promise<void> {
    const ringing = this.ringing;
    if (!ringing) return;
    await this.#d.phone.decline(ringing.callId).catch(() => undefined);
  }

  async hangup(): Promise<void> {
    const call = this.call ?? this.ringing;
    if (call) await this.#d.phone.hangup(call.callId);
  }

  // --- events ---------------------------------------------------------------

  #onStatus(status: PhoneStatusChange): void {
    this.phoneStatus = status;
    if (status.status === 'failed' && this.phase !== 'setup')
      this.#set('failed', { error: status.reason ?? 'The phone could not connect.' });
    this.#d.notify?.('state', { phase: this.phase, phone: status.status });
    this.#changed();
  }

  #onCall(change: PhoneCallChange): void {
    const { callId, state } = change;
    if (state === 'ringing') {
      if (this.phase !== 'idle' || this.ringing || this.call) {
        // No resident signed in, or busy: this device cannot take it.
        void this.#d.phone.decline(callId).catch(() => undefined);
        return;
      }
      const fromInvite = this.#d.phone.callerName(callId);
      this.ringing = {
        callId,
        callerName: fromInvite ?? UNKNOWN_CALLER,
        busy: false,
        error: undefined,
      };
      if (!fromInvite)
        void this.#d.client.callerName(callId).then((name) => {
          if (name && this.ringing?.callId === callId) {
            this.ringing = { ...this.ringing, callerName: name };
            this.#changed();
          }
        });
      this.#startTone();
      this.#set('ringing', { announcement: `Incoming call from ${this.ringing.callerName}` });
      this.#d.notify?.('call', { callId, state, callerName: this.ringing.callerName });
    } else if (state === 'connected' && this.ringing?.callId === callId) {
      this.call = { callId, callerName: this.ringing.callerName, since: this.#now() };
      this.ringing = undefined;
      this.#stopTone();
      this.#set('call', { announcement: `On a call with ${this.call.callerName}` });
      this.#d.notify?.('call', { callId, state, callerName: this.call.callerName });
    } else if (
      state === 'ended' &&
      (this.ringing?.callId === callId || this.call?.callId === callId)
    ) {
      const name = (this.call ?? this.ringing)?.callerName;
      const refused = this.ringing?.error;
      this.ringing = undefined;
      this.call = undefined;
      this.#stopTone();
      this.#set(this.resident ? 'idle' : 'resident-sign-in', {
        announcement: `Call with ${name ?? UNKNOWN_CALLER} ended`,
        error: refused,
      });
      this.#d.notify?.('call', { callId, state, callerName: name });
    }
  }

  #startTone(): void {
    this.#tone ??= this.#d.ringTone?.();
    this.#tone?.start();
  }

  #stopTone(): void {
    this.#tone?.stop();
    this.#tone = undefined;
  }

  #set(
    phase: ResidentPhase,
    extra: { error?: string | undefined; announcement?: string } = {},
  ): void {
    const changed = phase !== this.phase;
    this.phase = phase;
    if ('error' in extra) this.error = extra.error;
    if (extra.announcement !== undefined) this.announcement = extra.announcement;
    if (changed) this.#d.notify?.('state', { phase, phone: this.phoneStatus.status });
    this.#changed();
  }

  #changed(): void {
    this.#host.requestUpdate();
  }
}

function codeOf(error: unknown): string {
  return error instanceof DeskApiError ? error.code : 'failed';
}

/** What the resident (or whoever sets the tablet up) is told. */
function describe(error: unknown, during: 'setup' | 'sign-in' | 'pin'): string {
  const code = codeOf(error);
  const wait = error instanceof DeskApiError ? error.retryAfterSeconds : undefined;
  switch (code) {
    case 'unauthorized':
      return during === 'setup'
        ? 'This device is not known, or its secret is wrong.'
        : 'Please set the device up again.';
    case 'pin_refused':
      return 'That PIN is not correct.';
    case 'pin_locked':
      return `Too many wrong PINs. Try again in ${Math.max(1, Math.ceil((wait ?? 60) / 60))} min.`;
    case 'not_found':
      return 'This call cannot be taken here.';
    case 'rate_limited':
      return 'Too many tries. Please wait a moment.';
    case 'network':
      return 'The gateway cannot be reached.';
    default:
      return during === 'pin'
        ? 'The PIN could not be checked. Please try again.'
        : 'Something went wrong.';
  }
}
