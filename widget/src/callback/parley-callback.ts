import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { controlStyles } from '../styles/controls.js';
import { gatewayHttpBase } from './callback-client.js';
import { CallbackController, type ParleyCallbackDetail } from './callback-controller.js';
import { callbackStatusText, isOver } from './callback-text.js';
import { countryChoices } from './phone.js';
import { callbackStyles } from './styles.js';

type WhenChoice = 'now' | 'slot' | 'agent-free';
const WHEN_CHOICES: readonly WhenChoice[] = ['now', 'slot', 'agent-free'];
const WHEN_LABEL: Record<WhenChoice, string> = {
  now: 'Now',
  slot: 'At a time I choose',
  'agent-free': 'When someone is free',
};

/**
 * `<parley-callback>`: "call me back". The visitor types a phone number
 * (checked with libphonenumber-js in the chosen country), says when (now, a
 * time, or when someone is free) and agrees to be called; the company's
 * token endpoint screens the request (`callback:<destination>` token), the
 * gateway calls the phone, and the element shows the progress (scheduled,
 * calling, ringing, press 1, connecting, connected, or why it failed).
 * `<parley-call callback>` embeds it; it also stands alone.
 *
 * Attributes: `token-url` (the company's callback token endpoint),
 * `destination` (a queue or `listing.<id>`, required), `gateway` (the
 * gateway's URL; default the token endpoint's answer), `country` (the
 * preselected country, default `US`), `countries` (offered, comma-separated,
 * default `US,CA,GB,DE,FR`), `when` (choices offered, comma-separated from
 * `now,slot,agent-free`; default all), `consent` (the consent line),
 * `impression` (a marketplace impression), `collapsed` (shows only a "Call
 * me back" button until clicked), `call-token-url` (the call token endpoint:
 * without `token-url`, `callback-token` beside it is asked).
 *
 * @fires parley-callback - `{ phase, id?, attempt?, dueAt?, outcome?, code? }` on every change.
 * @fires parley-error - `{ code, message, human }`: a number that is not one, a refusal, a callback that failed.
 *
 * @csspart form - The request form; phone, country, when, slot, consent, submit inside it.
 * @csspart status - The progress line (a polite live region).
 * @csspart cancel - The cancel button while the callback is under way.
 * @csspart open - The "Call me back" button of a collapsed element.
 */
export class ParleyCallback extends LitElement {
  static override styles = [controlStyles, callbackStyles];

  static override properties = {
    tokenUrl: { attribute: 'token-url' },
    destination: {},
    gateway: {},
    country: {},
    countries: {},
    when: {},
    consent: {},
    impression: {},
    callTokenUrl: { attribute: 'call-token-url' },
    collapsed: { type: Boolean },
    choice: { state: true },
    open: { state: true },
  };

  declare tokenUrl: string;
  declare destination: string;
  declare gateway: string | undefined;
  declare country: string;
  declare countries: string;
  declare when: string;
  declare consent: string;
  declare impression: string | undefined;
  declare callTokenUrl: string | undefined;
  declare collapsed: boolean;
  declare protected choice: WhenChoice;
  declare protected open: boolean;

  readonly #controller: CallbackController;

  constructor() {
    super();
    this.tokenUrl = '';
    this.destination = '';
    this.country = 'US';
    this.countries = 'US,CA,GB,DE,FR';
    this.when = WHEN_CHOICES.join(',');
    this.consent = 'I agree to be called at this number about this request.';
    this.choice = 'now';
    this.collapsed = false;
    this.open = false;
    this.#controller = new CallbackController(this, {
      settings: () => ({
        tokenUrl: this.#tokenUrl(),
        destination: this.destination,
        gateway: this.gateway ? gatewayHttpBase(this.gateway, location.href) : undefined,
        page: location.href,
        impression: this.impression || undefined,
      }),
    });
  }

  /** The callback's id once the gateway took it. */
  get callbackId(): string | undefined {
    return this.#controller.id;
  }

  /** Cancels the callback under way. */
  cancel(): Promise<void> {
    return this.#controller.cancel();
  }

  /** `token-url`, else `callback-token` beside the call's token endpoint (`/api/call-token` → `/api/callback-token`). */
  #tokenUrl(): string {
    if (this.tokenUrl) return new URL(this.tokenUrl, location.href).href;
    return new URL('callback-token', new URL(this.callTokenUrl || '.', location.href)).href;
  }

  #offered(): WhenChoice[] {
    const asked = this.when.split(',').map((w) => w.trim());
    const offered = WHEN_CHOICES.filter((w) => asked.includes(w));
    return offered.length > 0 ? offered : ['now'];
  }

  protected override render(): TemplateResult {
    const { status } = this.#controller;
    const failed =
      status.phase === 'refused' || (status.phase === 'ended' && status.outcome !== 'completed');
    if (this.collapsed && !this.open && status.phase === 'form')
      return html`<button
        part="button open"
        class="secondary"
        aria-expanded="false"
        @click=${() => (this.open = true)}
      >
        Call me back
      </button>`;
    return html`
      ${status.phase === 'form' || status.phase === 'refused' ? this.#form() : nothing}
      <p
        part="status"
        class=${failed ? 'status failed' : 'status'}
        role="status"
        aria-live="polite"
        data-phase=${status.phase}
      >
        ${callbackStatusText(status)}
      </p>
      ${
        this.#controller.busy && status.phase !== 'sending'
          ? html`<button part="button cancel" class="danger" @click=${this.#cancel}>Cancel</button>`
          : nothing
      }
      ${
        status.phase === 'ended'
          ? html`<button part="button again" class="secondary" @click=${this.#again}>
              Ask again
            </button>`
          : nothing
      }
    `;
  }

  #form(): TemplateResult {
    const offered = this.#offered();
    const choice = offered.includes(this.choice) ? this.choice : offered[0]!;
    const error = this.#controller.fieldError;
    return html`<form part="form" @submit=${this.#submit} novalidate>
      <label for="phone">Your phone number</label>
      <div class="row">
        <label class="visually-hidden" for="country">Country</label>
        <select id="country" part="country" name="country">
          ${countryChoices(this.countries.split(',').map((c) => c.trim().toUpperCase())).map(
            (c) =>
              html`<option value=${c.code} ?selected=${c.code === this.country.toUpperCase()}>
                ${c.label}
              </option>`,
          )}
        </select>
        <input
          id="phone"
          part="phone"
          name="phone"
          type="tel"
          autocomplete="tel"
          inputmode="tel"
          maxlength="40"
          required
          aria-invalid=${error ? 'true' : 'false'}
          aria-describedby="phone-error"
        />
      </div>
      <p id="phone-error" class="field-error" ?hidden=${!error}>${error ?? ''}</p>
      ${
        offered.length > 1
          ? html`<fieldset>
              <legend>When</legend>
              ${offered.map(
                (w) =>
                  html`<label
                    ><input
                      type="radio"
                      name="when"
                      part="when"
                      value=${w}
                      .checked=${w === choice}
                      @change=${() => (this.choice = w)}
                    />
                    ${WHEN_LABEL[w]}</label
                  >`,
              )}
            </fieldset>`
          : nothing
      }
      ${
        choice === 'slot'
          ? html`<label
              >Time <input id="slot" part="slot" name="slot" type="datetime-local" required
            /></label>`
          : nothing
      }
      <label class="consent"
        ><input type="checkbox" part="consent" name="consent" required /> ${this.consent}</label
      >
      <button part="button submit" type="submit">Call me back</button>
    </form>`;
  }

  readonly #submit = (event: SubmitEvent): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const offered = this.#offered();
    const choice = offered.includes(this.choice) ? this.choice : offered[0]!;
    if (data.get('consent') !== 'on') {
      this.#controller.invalid('bad_request', 'Please agree to be called first.');
      return;
    }
    let when: string = choice;
    if (choice === 'slot') {
      // datetime-local is the visitor's local time, without a zone: Date reads it so.
      const at = new Date(String(data.get('slot') ?? ''));
      if (Number.isNaN(at.getTime())) {
        this.#controller.invalid('callback_slot_invalid', 'Please choose a time.');
        return;
      }
      when = at.toISOString();
    }
    void this.#controller.ask({
      phone: String(data.get('phone') ?? ''),
      country: String(data.get('country') ?? '') || undefined,
      when,
    });
  };

  readonly #cancel = (): void => {
    void this.#controller.cancel();
  };

  readonly #again = (): void => {
    if (isOver(this.#controller.status.phase)) this.#controller.reset();
  };
}

declare global {
  interface HTMLElementEventMap {
    'parley-callback': CustomEvent<ParleyCallbackDetail>;
  }
}
