import { controlStyles } from '../styles/controls.js';
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { ParleyMessage } from '@parley/shared/protocol';
import { DTMF_DIGITS, type CallStack, type DtmfDigit } from '../api/call-stack.js';
import { isActive, isAnswered, type CallState } from '../api/call-state.js';
import type {
  ParleyErrorDetail,
  ParleyHoldDetail,
  ParleyMessageDetail,
  ParleyQueueDetail,
  ParleyStateDetail,
} from '../api/events.js';
import { WIDGET_CODES } from '@parley/shared/errors/widget';
import { CallController } from '../controllers/call-controller.js';
import { digitLabel, formatDuration, statusText } from './state-text.js';
import { styles } from './styles.js';

/**
 * `<parley-call>`: a click-to-call button. A click asks for the microphone,
 * gets a call token from `token-url` and calls `queue` through the Parley
 * gateway; in the call the visitor can mute, use a keypad and chat. A
 * microphone the browser blocks for the site is said on hover or focus,
 * before the click (`../client/microphone-permission.ts`).
 *
 * Attributes: `token-url` (required), `queue` (required unless `listing`),
 * `listing` (a marketplace listing's web reference: calls `listing.<id>`),
 * `impression` (the impression it was shown with), `label` (button
 * text, default "Call us"), `gateway` (SIP WebSocket URL, overrides the token
 * response's), `domain` (SIP domain, default `parley.invalid`),
 * `reconnect-seconds` (how long a call whose WebSocket dropped is tried to be
 * brought back, "Reconnecting…", default 20; keep it within the gateway's
 * `visitors.reconnectGraceSeconds`), `callback` (offers "Call me back":
 * `<parley-callback>` for the same queue or listing, a chunk of its own),
 * `callback-token-url` (the company's callback token endpoint, default
 * `callback-token` beside `token-url`), `warm` (`hover`: the call stack is not
 * fetched when the button comes into view, only on hover, focus or click).
 *
 * The class is abstract: `../index.ts` defines the element with the loader of
 * the call stack (sip.js), which is fetched when the button comes into view, or
 * on the first hover, focus or click.
 *
 * @fires parley-state - `{ state, code? }` on every state change.
 * @fires parley-message - `{ message }` for each message from the agent's side.
 * @fires parley-error - `{ code, message, human, retryAfterSeconds? }` when a call fails.
 * @fires parley-hold - `{ held }` when the agent puts the call on hold or resumes it.
 * @fires parley-queue - `{ state, queue, position?, estimatedWaitSeconds?, reason? }` while the visitor waits in a queue.
 * @fires parley-callback - from the embedded `<parley-callback>` (see there).
 *
 * @csspart panel - The box around everything.
 * @csspart status - The status line (a polite live region).
 * @csspart button - Every button (also: call-button, hangup-button, mute-button, keypad-toggle, keypad-button, chat-send).
 * @csspart timer - The call duration.
 * @csspart keypad - The DTMF keypad.
 * @csspart chat - The chat panel; chat-log, message, chat-input inside it.
 * @csspart callback - The embedded `<parley-callback>` (with `callback`), collapsed to its button.
 *
 * @cssprop --parley-accent - Main button colour (default #0b57d0).
 * @cssprop --parley-accent-text - Text on the main button (#fff).
 * @cssprop --parley-danger - Hang-up button and errors (#b3261e).
 * @cssprop --parley-danger-text - Text on the hang-up button (#fff).
 * @cssprop --parley-background - Panel and input background (#fff).
 * @cssprop --parley-text - Text colour (#1f1f1f).
 * @cssprop --parley-muted-text - Secondary text (#5f6368).
 * @cssprop --parley-border - Borders (#c4c7c5).
 * @cssprop --parley-radius - Corner radius (0.5rem).
 * @cssprop --parley-font - Font family (system-ui).
 * @cssprop --parley-font-size - Font size (1rem).
 * @cssprop --parley-focus - Focus ring colour (#0b57d0).
 * @cssprop --parley-width - Largest panel width (20rem).
 * @cssprop --parley-shadow - Panel shadow.
 */
export abstract class ParleyCall extends LitElement {
  static override styles = [controlStyles, styles];

  static override properties = {
    tokenUrl: { attribute: 'token-url' },
    queue: {},
    listing: {},
    impression: {},
    label: {},
    gateway: {},
    domain: {},
    reconnectSeconds: { attribute: 'reconnect-seconds', type: Number },
    callback: { type: Boolean },
    callbackTokenUrl: { attribute: 'callback-token-url' },
    keypadOpen: { state: true },
  };

  declare tokenUrl: string;
  declare queue: string;
  declare listing: string | undefined;
  declare impression: string | undefined;
  declare label: string;
  declare gateway: string | undefined;
  declare domain: string | undefined;
  declare reconnectSeconds: number | undefined;
  declare callback: boolean;
  declare callbackTokenUrl: string | undefined;
  declare protected keypadOpen: boolean;

  readonly #call: CallController;
  #lastState: CallState = 'idle';
  #focusInside = false;

  constructor() {
    super();
    this.tokenUrl = '';
    this.queue = '';
    this.label = 'Call us';
    this.keypadOpen = false;
    this.callback = false;
    this.#call = new CallController(this, {
      load: () => this.loadCallStack(),
      options: () => ({
        tokenUrl: this.tokenUrl,
        queue: this.queue,
        listing: this.listing || undefined,
        impression: this.impression || undefined,
        gateway: this.gateway || undefined,
        domain: this.domain || undefined,
        ...(this.reconnectSeconds !== undefined && this.reconnectSeconds > 0
          ? { reconnect: { windowMs: this.reconnectSeconds * 1000 } }
          : {}),
      }),
    });
    // Warm the call stack when a call looks likely: on every hover, as what was
    // warmed lapses (a WebSocket opened ahead closes unused, a call takes the
    // token, the element leaves the page; what is warm is kept), and on the
    // first focus (focus moves in by itself too: to the button, as a call ends).
    const prefetch = (): void => this.#call.prefetch();
    this.addEventListener('pointerenter', prefetch);
    this.addEventListener('focusin', prefetch, { once: true });
    // In view, the call stack's code alone is fetched, before the pointer arrives:
    // no token or WebSocket for every page view (`warm="hover"`: not even that).
    // Where there is no IntersectionObserver (jsdom, old browsers), hover alone.
    if (typeof IntersectionObserver != 'function') return;
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      seen.disconnect();
      if (this.getAttribute('warm') != 'hover') this.#call.prefetch(true);
    });
    seen.observe(this);
  }

  /** Loads sip.js and the CallClient (a dynamic import, so a separate chunk). */
  protected abstract loadCallStack(): Promise<CallStack>;

  /** The current state. */
  get state(): CallState {
    return this.#call.state;
  }

  /** Starts a call, as a click on the button does. Resolves when the attempt is under way or over. */
  call(): Promise<void> {
    return this.#call.call();
  }

  /** Hangs up, or cancels a call not yet answered. */
  hangup(): Promise<void> {
    return this.#call.hangup();
  }

  /**
   * Sends a chat text, or a whole ParleyMessage, on the call's message
   * channel. Resolves with the message sent; rejects with a
   * MessageRejectedError (`reason`: not_in_call, channel_closed, invalid,
   * too_large, rate_limited).
   */
  send(message: string | ParleyMessage): Promise<ParleyMessage> {
    return this.#call.send(message);
  }

  protected override willUpdate(): void {
    // Recorded before the render replaces the focused button.
    this.#focusInside = this.shadowRoot?.activeElement != null;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const audio = this.renderRoot.querySelector('audio');
    const stream = this.#call.remoteStream ?? null;
    if (audio && audio.srcObject !== stream) {
      audio.srcObject = stream;
      if (stream) audio.play().catch(() => undefined);
    }
    const state = this.#call.state;
    if (state === this.#lastState) return;
    this.#lastState = state;
    if (state !== 'in-call') this.keypadOpen = false;
    // Move focus to the control that matters now, unless the visitor is elsewhere on the page.
    const active = document.activeElement;
    if (this.#focusInside || active === null || active === document.body || active === this) {
      this.renderRoot.querySelector<HTMLElement>('[data-primary]')?.focus();
    }
  }

  protected override render(): TemplateResult {
    const { state, error } = this.#call;
    // A microphone the browser blocks, said before the click that could only fail on it.
    const blocked = this.#call.microphone === 'denied' && !isActive(state);
    const open = state !== 'idle' || blocked;
    return html`
      <div part="panel" class=${open ? 'panel open' : 'panel'}>
        <p
          part="status"
          class=${open ? 'status' : 'status visually-hidden'}
          role="status"
          aria-live="polite"
        >
          ${blocked ? WIDGET_CODES.microphone_denied.human : statusText(state, error?.human, this.#call.held, this.#call.queue, this.#call.voicemail)}
        </p>
        ${isAnswered(state) ? this.#inCall() : this.#outOfCall(state)}
        <audio part="audio" autoplay hidden></audio>
      </div>
    `;
  }

  #outOfCall(state: CallState): TemplateResult {
    if (isActive(state)) {
      return html`<div class="row">
        <button part="button hangup-button" class="danger" data-primary @click=${this.#hangup}>
          ${state === 'ringing' ? 'Hang up' : 'Cancel'}
        </button>
      </div>`;
    }
    const text = state === 'ended' ? 'Call again' : state === 'error' ? 'Try again' : this.label;
    return html`<div class="row">
        <button part="button call-button" data-primary @click=${this.#start}>${text}</button>
      </div>
      ${
        this.callback
          ? html`<parley-callback
              part="callback"
              collapsed
              token-url=${this.callbackTokenUrl ?? nothing}
              call-token-url=${this.tokenUrl}
              destination=${this.listing ? `listing.${this.listing}` : this.queue}
              gateway=${this.gateway ?? nothing}
              impression=${this.impression ?? nothing}
            ></parley-callback>`
          : nothing
      }`;
  }

  #inCall(): TemplateResult {
    const { muted, channelOpen, chat } = this.#call;
    return html`
      <div class="row">
        <span part="timer" class="timer" role="timer" aria-label="Call duration"
          >${formatDuration(this.#call.elapsed)}</span
        >
        <button
          part="button mute-button"
          class="secondary"
          aria-pressed=${muted ? 'true' : 'false'}
          @click=${this.#toggleMute}
        >
          ${muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          part="button keypad-toggle"
          class="secondary"
          aria-expanded=${this.keypadOpen ? 'true' : 'false'}
          aria-controls="keypad"
          @click=${this.#toggleKeypad}
        >
          Keypad
        </button>
        <button part="button hangup-button" class="danger" data-primary @click=${this.#hangup}>
          Hang up
        </button>
      </div>
      <div
        part="keypad"
        id="keypad"
        class="keypad"
        role="group"
        aria-label="Keypad"
        ?hidden=${!this.keypadOpen}
      >
        ${DTMF_DIGITS.map(
          (digit) =>
            html`<button
              part="button keypad-button"
              class="secondary"
              aria-label=${digitLabel(digit)}
              @click=${() => this.#dtmf(digit)}
            >
              ${digit}
            </button>`,
        )}
      </div>
      <section part="chat" class="chat" aria-label="Chat">
        <ol part="chat-log" class="log" role="log" aria-label="Messages">
          ${chat.map(
            (entry) =>
              html`<li part="message" class=${entry.from}>
                ${entry.from === 'notice' ? nothing : html`<span class="from">${entry.from === 'agent' ? 'Agent' : 'You'}:</span>`}
                ${entry.text}
              </li>`,
          )}
        </ol>
        <form @submit=${this.#submit}>
          <label class="visually-hidden" for="chat-input">Message</label>
          <input
            id="chat-input"
            part="chat-input"
            name="text"
            autocomplete="off"
            maxlength="2000"
            placeholder=${channelOpen ? 'Type a message' : 'Chat opens in a moment…'}
            ?disabled=${!channelOpen}
          />
          <button part="button chat-send" type="submit" ?disabled=${!channelOpen}>Send</button>
        </form>
      </section>
    `;
  }

  readonly #start = (): void => {
    void this.#call.call();
  };

  readonly #hangup = (): void => {
    void this.#call.hangup();
  };

  readonly #toggleMute = (): void => {
    this.#call.toggleMute();
  };

  readonly #toggleKeypad = (): void => {
    this.keypadOpen = !this.keypadOpen;
  };

  #dtmf(digit: DtmfDigit): void {
    this.#call.sendDtmf(digit);
  }

  readonly #submit = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#chat-input');
    const text = input?.value.trim();
    if (!input || !text) return;
    this.#call.send(text).then(
      () => {
        input.value = '';
      },
      () => undefined, // the input keeps the text; a notice explains
    );
  };
}

declare global {
  interface HTMLElementEventMap {
    'parley-state': CustomEvent<ParleyStateDetail>;
    'parley-message': CustomEvent<ParleyMessageDetail>;
    'parley-error': CustomEvent<ParleyErrorDetail>;
    'parley-hold': CustomEvent<ParleyHoldDetail>;
    'parley-queue': CustomEvent<ParleyQueueDetail>;
  }
}
