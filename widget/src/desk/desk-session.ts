/**
 * The agent's session on the desk: sign-in, the session cookie checked when
 * the page loads, sign-out and expiry, letting go of the gateway while the
 * page is hidden (`suspend`/`resume`), and the softphone started with the
 * password.
 *
 * The password typed at sign-in is kept in this object only (never in
 * storage): the softphone needs it for digest authentication. After a page
 * reload the session cookie still signs the desk in, and the softphone asks
 * for the password again.
 */
import { DeskApiError } from './desk-api-error.js';
import type { DeskClient } from './desk-client.js';
import type { DeskErrorDetail } from './desk-events.js';
import type { DeskAgent, SipSettings } from './desk-protocol.js';
import { signInErrorText } from './desk-text.js';
import type { DeskAuth } from './desk-view.js';
import type { Softphone } from './softphone.js';

export interface DeskSessionDeps {
  readonly client: DeskClient;
  readonly phone: Softphone;
  /** "Use this browser as my phone" is on. */
  readonly softphone: () => boolean;
  readonly fire: <T>(type: string, detail: T) => void;
  readonly changed: () => void;
  /** The events socket is about to open afresh (not a reconnect to resync after). */
  readonly connecting: () => void;
  /** Signed in (the recent calls load). */
  readonly entered: () => void;
  /** Signed out: forget what the desk showed of the agent's calls and errors. */
  readonly left: () => void;
}

export class DeskSession {
  auth: DeskAuth = 'checking';
  signInError: string | undefined;
  agent: DeskAgent | undefined;
  sip: SipSettings | undefined;
  microphoneBlocked = false;
  readonly #deps: DeskSessionDeps;
  #password: string | undefined;
  #suspended = false;

  constructor(deps: DeskSessionDeps) {
    this.#deps = deps;
  }

  get signedIn(): boolean {
    return this.auth === 'signed-in';
  }

  /** The softphone is on but has no password (after a reload) or the gateway refused it. */
  get needsPassword(): boolean {
    if (!this.#deps.softphone() || !this.signedIn) return false;
    return this.#password === undefined || this.#deps.phone.status.code === 'password_refused';
  }

  /** Whether the session cookie still signs the agent in (when the page loads). */
  async check(): Promise<void> {
    try {
      const profile = await this.#deps.client.me();
      this.#enter(profile.agent, profile.sip);
    } catch (error) {
      this.auth = 'signed-out';
      if (!(error instanceof DeskApiError && error.unauthorized))
        this.signInError =
          error instanceof DeskApiError ? signInErrorText(error) : 'The desk could not start.';
      this.#deps.changed();
    }
  }

  async signIn(username: string, password: string): Promise<void> {
    if (this.auth === 'signing-in') return;
    if (!username.trim() || !password) {
      this.signInError = 'Enter your username and password.';
      this.#deps.changed();
      return;
    }
    this.auth = 'signing-in';
    this.signInError = undefined;
    this.#deps.changed();
    try {
      await this.#deps.client.login(username.trim(), password);
      const profile = await this.#deps.client.me();
      this.#password = password;
      this.#enter(profile.agent, profile.sip);
    } catch (error) {
      this.auth = 'signed-out';
      this.signInError =
        error instanceof DeskApiError ? signInErrorText(error) : `Sign-in failed: ${String(error)}`;
      this.#deps.fire<DeskErrorDetail>('parley-desk-error', {
        code: 'sign_in_failed',
        message: this.signInError,
      });
      this.#deps.changed();
    }
  }

  async signOut(): Promise<void> {
    if (!this.signedIn) return;
    await this.#deps.client.logout().catch(() => undefined);
    await this.#leave();
  }

  /** The session cookie is no longer good (a 401 from the API or the socket). */
  async expired(): Promise<void> {
    if (!this.signedIn) return;
    const message = 'Your session has expired. Please sign in again.';
    this.#deps.fire<DeskErrorDetail>('parley-desk-error', { code: 'session_expired', message });
    await this.#leave(message);
  }

  /**
   * Lets go of the gateway: the softphone unregisters, so the gateway stops
   * ringing a browser that is gone, and the events socket closes. False when
   * there was nothing to let go of.
   */
  suspend(): boolean {
    if (!this.signedIn || this.#suspended) return false;
    this.#suspended = true;
    this.#deps.client.disconnect();
    void this.#deps.phone.stop();
    return true;
  }

  /** Connects again after suspend(); false when there was nothing to resume. */
  resume(): boolean {
    if (!this.#suspended || !this.signedIn) return false;
    this.#suspended = false;
    this.#deps.connecting();
    this.#deps.client.connect();
    void this.startPhone();
    return true;
  }

  /** The password for the softphone, when the desk resumed a session without it. */
  providePassword(password: string): void {
    if (!password) return;
    this.#password = password;
    void this.startPhone();
  }

  /** Starts the softphone when it is on and the password is known. */
  async startPhone(checkMicrophone = false): Promise<void> {
    const sip = this.sip;
    if (!this.#deps.softphone() || !sip || this.#password === undefined || !this.signedIn) return;
    const phone = this.#deps.phone;
    await phone.start({
      ...sip,
      password: this.#password,
      ...(this.agent ? { displayName: this.agent.displayName } : {}),
    });
    if (checkMicrophone) {
      // Ask now, at sign-in, rather than while a call rings.
      this.microphoneBlocked = !(await phone.checkMicrophone());
      this.#deps.changed();
    }
  }

  #enter(agent: DeskAgent, sip: SipSettings): void {
    this.auth = 'signed-in';
    this.agent = agent;
    this.sip = sip;
    this.signInError = undefined;
    this.#suspended = false;
    this.#deps.connecting();
    this.#deps.client.connect();
    void this.startPhone(true);
    this.#deps.entered();
    this.#deps.changed();
  }

  async #leave(message?: string): Promise<void> {
    this.#deps.client.disconnect();
    this.#password = undefined;
    await this.#deps.phone.stop();
    this.auth = 'signed-out';
    this.agent = undefined;
    this.sip = undefined;
    this.microphoneBlocked = false;
    this.signInError = message;
    this.#deps.left();
  }
}
