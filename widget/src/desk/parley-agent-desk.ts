import { controlStyles } from '../styles/controls.js';
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { DeskController, type DeskControllerDeps } from './desk-controller.js';
import type {
  DeskCallDetail,
  DeskErrorDetail,
  DeskMessageDetail,
  DeskStateDetail,
} from './desk-events.js';
import { callCard, endedCard, ringingCard } from './call-cards.js';
import { agentStateText, connectionText, phoneStatusText } from './desk-text.js';
import { livePanel } from './live-panel.js';
import { recentCalls } from './recent-calls.js';
import { styles } from './styles.js';

type Phase = 'loading' | 'signed-out' | 'idle' | 'ringing' | 'call' | 'ended';

/**
 * `<parley-agent-desk>`: the agent's desk, served by the gateway at `/desk`.
 * Sign-in, the agent's presence and availability, incoming calls with who is
 * calling and what they are worth, the call in progress with its chat, and
 * recent calls. With "Use this browser as my phone" on (the default) the
 * browser registers as the agent's SIP phone and calls are answered here;
 * off, it sits beside the agent's SIP phone and shows the same calls.
 *
 * Presentational: the behaviour is `DeskController`'s (`desk-controller.ts`),
 * over `DeskClient` (the desk API) and `Softphone` (sip.js). The class is
 * abstract; `index.ts` defines the element with the browser's services.
 *
 * @fires parley-desk-state - `{ signedIn, agent, connection, softphone, phone }` when any of them changes.
 * @fires parley-desk-call - `{ phase: 'ringing' | 'ring-stopped' | 'answered' | 'ended', callId, … }`.
 * @fires parley-desk-message - `{ callId, stored }` for each data-channel message of the call.
 * @fires parley-desk-error - `{ code, message }` for what the agent is told went wrong.
 *
 * @csspart desk - The page-wide box.
 * @csspart sign-in - The sign-in form (and sign-in-button, error).
 * @csspart header - Agent name, tier, state and availability (agent-name, tier, agent-state, availability-toggle, sign-out).
 * @csspart connection - The "reconnecting" banner.
 * @csspart error - Error banners and the sign-in error.
 * @csspart phone - The softphone box (phone-status, phone-toggle).
 * @csspart ringing - An incoming call (caller-number, caller-name, details, answer-button, decline-button).
 * @csspart call - The call in progress (timer, hold-status, mute-button, hold-button, hangup-button).
 * @csspart chat - The chat panel (chat-log, message, chat-input, chat-send).
 * @csspart ended - The summary of the call that just ended.
 * @csspart recent - Recent calls (recent-table).
 * @csspart button - Every button.
 *
 * @cssprop --parley-accent - Main buttons and the ringing frame (#0b57d0).
 * @cssprop --parley-accent-text - Text on main buttons (#fff).
 * @cssprop --parley-success - The Answer button and "available" (#146c2e).
 * @cssprop --parley-success-text - Text on the Answer button (#fff).
 * @cssprop --parley-danger - Hang up, Decline and errors (#b3261e).
 * @cssprop --parley-danger-text - Text on danger buttons (#fff).
 * @cssprop --parley-warning - Wrap-up, "On hold", provider fallbacks (#7a5900).
 * @cssprop --parley-warning-background - Behind warnings (#fff4d6).
 * @cssprop --parley-background - Cards and inputs (#fff).
 * @cssprop --parley-surface - The chat log (#f4f5f9).
 * @cssprop --parley-text - Text (#1f1f1f).
 * @cssprop --parley-muted-text - Secondary text (#5f6368).
 * @cssprop --parley-border - Borders (#c4c7c5).
 * @cssprop --parley-radius - Corner radius (0.5rem).
 * @cssprop --parley-font - Font family (system-ui).
 * @cssprop --parley-font-size - Font size (1rem).
 * @cssprop --parley-focus - Focus ring (#0b57d0).
 * @cssprop --parley-desk-width - Largest width of the desk (72rem).
 */
export abstract class ParleyAgentDesk extends LitElement {
  static override styles = [controlStyles, styles];

  readonly #desk: DeskController;
  #phase: Phase = 'loading';
  #ringKey = '';
  #stickToBottom = true;

  constructor() {
    super();
    this.#desk = new DeskController(this, this.createDeskServices());
  }

  /** The desk's services: the API client, the softphone, the ring tone. */
  protected abstract createDeskServices(): DeskControllerDeps;

  /** The desk's state and actions, for pages that embed it (and tests). */
  get controller(): DeskController {
    return this.#desk;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('pagehide', this.#pageHide);
    window.addEventListener('pageshow', this.#pageShow);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this.#pageHide);
    window.removeEventListener('pageshow', this.#pageShow);
  }

  // Unregister when the tab closes or navigates away, so calls stop ringing a gone browser.
  readonly #pageHide = (): void => this.#desk.suspend();
  readonly #pageShow = (event: PageTransitionEvent): void => {
    if (event.persisted) this.#desk.resume();
  };

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const desk = this.#desk;
    const audio = this.renderRoot.querySelector('audio');
    const stream = desk.remoteStream ?? null;
    if (audio && audio.srcObject !== stream) {
      audio.srcObject = stream;
      if (stream) audio.play().catch(() => undefined);
    }
    this.#moveFocus();
  }

  /** Focus follows the call: Answer when one rings, Hang up when answered, the summary when over. */
  #moveFocus(): void {
    const desk = this.#desk;
    const ringing = desk.ringing.filter((r) => r.phone === 'ringing' || !desk.softphone);
    const phase: Phase =
      desk.auth === 'checking'
        ? 'loading'
        : desk.auth !== 'signed-in'
          ? 'signed-out'
          : desk.active
            ? 'call'
            : ringing.length > 0
              ? 'ringing'
              : desk.lastEnded
                ? 'ended'
                : 'idle';
    const ringKey = ringing.map((r) => `${r.callId}:${r.phone ?? ''}`).join(',');
    const changed = phase !== this.#phase || (phase === 'ringing' && ringKey !== this.#ringKey);
    this.#phase = phase;
    this.#ringKey = ringKey;
    if (!changed) return;
    const root = this.renderRoot as ShadowRoot;
    const active = root.activeElement as HTMLElement | null;
    // Leave the agent typing a chat message alone.
    if (active?.id === 'chat-input' && phase === 'ringing') return;
    const inside = active !== null;
    const outside = document.activeElement;
    const free = inside || outside === null || outside === document.body || outside === this;
    // A ringing call takes focus (Answer is one key away); the rest only when focus is ours or nowhere.
    if (phase !== 'ringing' && !free) return;
    root.querySelector<HTMLElement>('[data-focus]')?.focus();
  }

  protected override render(): TemplateResult {
    const desk = this.#desk;
    return html`
      <div part="desk" class="desk">
        <div class="visually-hidden" role="status" aria-live="assertive" aria-atomic="true">
          ${desk.announcement}
        </div>
        ${
          desk.auth === 'checking'
            ? html`<p class="muted" role="status">Loading the desk…</p>`
            : desk.auth === 'signed-in'
              ? this.#deskView()
              : this.#signIn()
        }
      </div>
    `;
  }

  // --- sign-in --------------------------------------------------------------

  #signIn(): TemplateResult {
    const desk = this.#desk;
    const busy = desk.auth === 'signing-in';
    const error = desk.signInError;
    return html`
      <form
        part="sign-in"
        class="card sign-in"
        aria-labelledby="sign-in-title"
        aria-busy=${busy ? 'true' : 'false'}
        @submit=${this.#submitSignIn}
      >
        <h1 id="sign-in-title">Parley agent desk</h1>
        <p part="error" id="sign-in-error" class="error-text" role="alert">${error ?? ''}</p>
        <div class="field">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            required
            data-focus
            aria-invalid=${error ? 'true' : 'false'}
            aria-describedby="sign-in-error"
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            aria-invalid=${error ? 'true' : 'false'}
            aria-describedby="sign-in-error"
          />
        </div>
        <button part="button sign-in-button" type="submit" ?disabled=${busy}>
          ${busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    `;
  }

  readonly #submitSignIn = (event: SubmitEvent): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username') ?? '');
    const password = String(data.get('password') ?? '');
    void this.#desk.signIn(username, password).then(() => {
      if (this.#desk.auth === 'signed-in') return;
      // Keep the username; clear and focus the password for another try.
      const field = form.querySelector<HTMLInputElement>('#password');
      if (field) {
        field.value = '';
        field.focus();
      }
    });
  };

  // --- the desk -------------------------------------------------------------

  #deskView(): TemplateResult {
    const desk = this.#desk;
    const active = desk.active;
    const ringing = desk.ringing;
    const connection = connectionText(desk.connection);
    return html`
      ${this.#header()}
      <p part="connection" class="banner warn" role="status" ?hidden=${connection === ''}>
        ${connection}
      </p>
      ${
        desk.error
          ? html`<div part="error" class="banner error row" role="alert">
              <span class="spacer">${desk.error.message}</span>
              <button part="button" class="secondary" @click=${() => desk.dismissError()}>
                Dismiss
              </button>
            </div>`
          : nothing
      }
      ${this.#phone()} ${ringing.map((ring) => ringingCard(desk, ring))}
      ${active ? callCard(desk, active, this.#submitChat) : nothing}
      ${!active && desk.lastEnded ? endedCard(desk.lastEnded) : nothing}
      ${
        !active && ringing.length === 0 && !desk.lastEnded
          ? html`<p class="muted">No calls right now.</p>`
          : nothing
      }
      ${livePanel(desk.live)} ${recentCalls(this.#desk)}
      <audio part="audio" autoplay hidden></audio>
    `;
  }

  #header(): TemplateResult {
    const desk = this.#desk;
    const agent = desk.agent;
    if (!agent) return html``;
    const available = agent.availability === 'available';
    return html`
      <header part="header">
        <h1 part="agent-name">${agent.displayName}</h1>
        ${agent.tier ? html`<span part="tier" class="badge">Tier ${agent.tier}</span>` : nothing}
        <p part="agent-state" class="state ${agent.state} spacer">
          ${agentStateText(agent, desk.now())}
        </p>
        <button
          part="button availability-toggle"
          role="switch"
          aria-checked=${available ? 'true' : 'false'}
          data-focus=${desk.ringing.length === 0 && !desk.active && !desk.lastEnded ? '' : nothing}
          @click=${() => void desk.setAvailability(available ? 'away' : 'available')}
        >
          Available for calls
        </button>
        <button part="button sign-out" class="secondary" @click=${() => void desk.signOut()}>
          Sign out
        </button>
      </header>
    `;
  }

  #phone(): TemplateResult {
    const desk = this.#desk;
    const lockedByCall = desk.active?.here === true;
    return html`
      <section part="phone" class="card" aria-label="Phone">
        <div class="row">
          <label class="check spacer">
            <input
              part="phone-toggle"
              type="checkbox"
              .checked=${desk.softphone}
              ?disabled=${lockedByCall}
              @change=${(event: Event) =>
                desk.setSoftphone((event.currentTarget as HTMLInputElement).checked)}
            />
            Use this browser as my phone
          </label>
          <span part="phone-status" class="muted" role="status">
            ${phoneStatusText(desk.softphone, desk.phone)}
          </span>
        </div>
        ${
          desk.softphone && desk.microphoneBlocked
            ? html`<p class="banner warn">
                The microphone is blocked. Allow it for this page to take calls in this browser.
              </p>`
            : nothing
        }
        ${
          desk.needsPassword
            ? html`<form class="row" @submit=${this.#submitPhonePassword}>
                <input
                  class="visually-hidden"
                  name="username"
                  autocomplete="username"
                  tabindex="-1"
                  aria-hidden="true"
                  readonly
                  .value=${desk.sip?.username ?? ''}
                />
                <label for="phone-password">Password, to use this browser as your phone</label>
                <input
                  id="phone-password"
                  name="password"
                  type="password"
                  autocomplete="current-password"
                  required
                />
                <button part="button" type="submit">Connect</button>
              </form>`
            : nothing
        }
      </section>
    `;
  }

  readonly #submitPhonePassword = (event: SubmitEvent): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const password = String(new FormData(form).get('password') ?? '');
    form.reset();
    this.#desk.providePassword(password);
  };

  readonly #submitChat = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#chat-input');
    if (!input) return;
    if (this.#desk.sendChat(input.value)) input.value = '';
  };

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    // Keep the chat log at the newest message, unless the agent scrolled up to read.
    const log = this.renderRoot?.querySelector('.log');
    this.#stickToBottom = !log || log.scrollHeight - log.scrollTop - log.clientHeight < 24;
  }

  protected override update(changed: PropertyValues): void {
    super.update(changed);
    const log = this.renderRoot.querySelector('.log');
    if (log && this.#stickToBottom) log.scrollTop = log.scrollHeight;
  }
}

declare global {
  interface HTMLElementEventMap {
    'parley-desk-state': CustomEvent<DeskStateDetail>;
    'parley-desk-call': CustomEvent<DeskCallDetail>;
    'parley-desk-message': CustomEvent<DeskMessageDetail>;
    'parley-desk-error': CustomEvent<DeskErrorDetail>;
  }
}
