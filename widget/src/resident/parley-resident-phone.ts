import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { controlStyles } from '../styles/controls.js';
import type { PhoneStatus } from '../desk/softphone-types.js';
import { ResidentController, type ResidentControllerDeps } from './resident-controller.js';
import { styles } from './styles.js';

const STATUS_TEXT: Record<PhoneStatus, string> = {
  off: 'Not connected',
  connecting: 'Connecting…',
  registered: 'Ready',
  reconnecting: 'Reconnecting…',
  failed: 'Not connected',
};

/**
 * `<parley-resident-phone>`: a resident's phone in a gated facility (S4), for
 * a tablet. The device signs in with its credential (attributes `tenant`,
 * `device`, `secret`, or the set-up form) and registers as a SIP phone; the
 * resident signs in with their PIN; a call rings with the caller's name, and
 * is answered only with the resident's PIN, which the gateway re-verifies
 * before connecting. No dialling out.
 *
 * Presentational: the behaviour is `ResidentController`'s. Abstract;
 * `index.ts` defines the element with the browser's services.
 *
 * @attr gateway - The gateway's URL (default: the page's origin).
 * @attr tenant - The facility (tenant id).
 * @attr device - The device's address identifier.
 * @attr secret - The device's secret (from `PUT /v1/gated/<tenant>/devices/<address>`).
 *
 * @fires parley-resident-state - `{ phase, phone }` when either changes.
 * @fires parley-resident-call - `{ callId, state: 'ringing' | 'connected' | 'ended', callerName }`.
 * @fires parley-resident-error - `{ code, message }` for what the resident is told went wrong.
 *
 * @csspart phone - The whole element's box.
 * @csspart status - The phone's connection status.
 * @csspart setup - The set-up form; `sign-in` the resident's sign-in.
 * @csspart ringing - An incoming call (caller-name, pin, answer-button, decline-button, error).
 * @csspart call - The call in progress (caller-name, timer, hangup-button).
 */
export abstract class ParleyResidentPhone extends LitElement {
  static override styles = [controlStyles, styles];
  static override properties = {
    gateway: { type: String },
    tenant: { type: String },
    device: { type: String },
    secret: { type: String },
  };

  declare gateway: string | undefined;
  declare tenant: string | undefined;
  declare device: string | undefined;
  declare secret: string | undefined;

  #phone: ResidentController | undefined;
  #pin = '';
  #timer: ReturnType<typeof setInterval> | undefined;

  /** The phone's services: the device API client on `gatewayUrl`, the softphone, the ring tone. */
  protected abstract createServices(gatewayUrl: string): Omit<ResidentControllerDeps, 'notify'>;

  /** The phone's state and actions, for pages that embed it (and tests). */
  get controller(): ResidentController {
    this.#phone ??= new ResidentController(this, {
      ...this.createServices(this.gateway || location.origin),
      notify: (event, detail) =>
        this.dispatchEvent(
          new CustomEvent(`parley-resident-${event}`, { detail, bubbles: true, composed: true }),
        ),
    });
    return this.#phone;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const phone = this.controller;
    if (phone.phase === 'setup' && this.tenant && this.device && this.secret)
      void phone.start({ tenant: this.tenant, device: this.device, secret: this.secret });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const phone = this.controller;
    const audio = this.renderRoot.querySelector('audio');
    const stream = phone.remoteStream ?? null;
    if (audio && audio.srcObject !== stream) {
      audio.srcObject = stream;
      if (stream) audio.play().catch(() => undefined);
    }
    if (phone.phase === 'call' && this.#timer === undefined)
      this.#timer = setInterval(() => this.requestUpdate(), 1000);
    if (phone.phase !== 'call' && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  protected override render(): TemplateResult {
    const phone = this.controller;
    return html`
      <div part="phone" class="phone">
        <div class="visually-hidden" role="status" aria-live="assertive">${phone.announcement}</div>
        <p part="status" class="muted">
          ${phone.device?.name ?? phone.device?.address ?? 'Resident phone'} ·
          ${STATUS_TEXT[phone.phoneStatus.status]}
        </p>
        ${this.#view()}
      </div>
    `;
  }

  #view(): TemplateResult {
    const phone = this.controller;
    switch (phone.phase) {
      case 'setup':
      case 'failed':
        return this.#setup();
      case 'connecting':
        return html`<p class="card" role="status">Connecting…</p>`;
      case 'resident-sign-in':
        return this.#signIn();
      case 'idle':
        return html`<div class="card" part="idle">
          <h1>${phone.resident?.name ?? 'Signed in'}</h1>
          <p class="muted">Waiting for calls.</p>
          ${phone.error ? html`<p class="error" part="error">${phone.error}</p>` : nothing}
          <button class="secondary" @click=${() => void phone.signOut()}>Sign out</button>
        </div>`;
      case 'ringing':
        return this.#ringing();
      case 'call':
        return this.#call();
    }
  }

  #setup(): TemplateResult {
    const phone = this.controller;
    const submit = (event: SubmitEvent) => {
      event.preventDefault();
      const data = new FormData(event.target as HTMLFormElement);
      void phone.start({
        tenant: String(data.get('tenant') ?? ''),
        device: String(data.get('device') ?? ''),
        secret: String(data.get('secret') ?? ''),
      });
    };
    return html`<form part="setup" class="card" @submit=${submit}>
      <h1>Set up this device</h1>
      <label>Facility <input name="tenant" required .value=${this.tenant ?? ''} /></label>
      <label>Device <input name="device" required .value=${this.device ?? ''} /></label>
      <label
        >Device secret <input name="secret" type="password" required autocomplete="off"
      /></label>
      ${phone.error ? html`<p class="error" part="error" role="alert">${phone.error}</p>` : nothing}
      <button type="submit" ?disabled=${phone.busy}>Connect</button>
    </form>`;
  }

  #signIn(): TemplateResult {
    const phone = this.controller;
    const submit = (event: SubmitEvent) => {
      event.preventDefault();
      const data = new FormData(event.target as HTMLFormElement);
      void phone.signIn(this.#pin, String(data.get('resident') ?? '') || undefined);
      this.#setPin('');
    };
    return html`<form part="sign-in" class="card" @submit=${submit}>
      <h1>Sign in</h1>
      <label
        >Resident number (shared devices)
        <input name="resident" inputmode="numeric" autocomplete="off"
      /></label>
      ${this.#pinPad()}
      ${phone.error ? html`<p class="error" part="error" role="alert">${phone.error}</p>` : nothing}
      <button type="submit" ?disabled=${phone.busy}>Sign in</button>
    </form>`;
  }

  #ringing(): TemplateResult {
    const phone = this.controller;
    const ringing = phone.ringing;
    if (!ringing) return html``;
    const answer = (event: SubmitEvent) => {
      event.preventDefault();
      void phone.answer(this.#pin);
      this.#setPin('');
    };
    return html`<form part="ringing" class="card" @submit=${answer} aria-labelledby="incoming">
      <h2 id="incoming">Incoming call</h2>
      <p class="caller" part="caller-name">${ringing.callerName}</p>
      <p class="muted">Enter your PIN to answer.</p>
      ${this.#pinPad()}
      ${ringing.error ? html`<p class="error" part="error" role="alert">${ringing.error}</p>` : nothing}
      <div class="actions">
        <button type="submit" class="answer" part="answer-button" ?disabled=${ringing.busy}>
          Answer
        </button>
        <button
          type="button"
          class="danger"
          part="decline-button"
          @click=${() => void phone.decline()}
        >
          Decline
        </button>
      </div>
    </form>`;
  }

  #call(): TemplateResult {
    const phone = this.controller;
    const call = phone.call;
    if (!call) return html``;
    const seconds = Math.max(0, Math.floor((Date.now() - call.since) / 1000));
    const mm = String(Math.floor(seconds / 60)).padStart(2, '0');
    const ss = String(seconds % 60).padStart(2, '0');
    return html`<div part="call" class="card">
      <h2>On a call with</h2>
      <p class="caller" part="caller-name">${call.callerName}</p>
      <p part="timer">${mm}:${ss}</p>
      <audio autoplay></audio>
      <button class="danger" part="hangup-button" @click=${() => void phone.hangup()}>
        Hang up
      </button>
    </div>`;
  }

  #pinPad(): TemplateResult {
    const digits = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
    const press = (d: string) => this.#setPin(`${this.#pin}${d}`.slice(0, 12));
    return html`
      <label
        >PIN
        <input
          part="pin"
          type="password"
          inputmode="numeric"
          autocomplete="off"
          maxlength="12"
          .value=${this.#pin}
          @input=${(e: Event) => this.#setPin((e.target as HTMLInputElement).value.replace(/\D/g, ''))}
        />
      </label>
      <div class="pad" role="group" aria-label="PIN pad">
        ${digits.map((d) => html`<button type="button" @click=${() => press(d)}>${d}</button>`)}
        <button type="button" aria-label="Clear" @click=${() => this.#setPin('')}>⌫</button>
        <button type="button" @click=${() => press('0')}>0</button>
      </div>
    `;
  }

  #setPin(pin: string): void {
    this.#pin = pin;
    this.requestUpdate();
  }
}
