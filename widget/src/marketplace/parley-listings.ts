import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { deviceId } from './device-id.js';
import { fetchPlacement, PlacementError, type Placement } from './placement-client.js';

/**
 * `<parley-listings>`: a marketplace placement on a publisher's page. It asks
 * the gateway's auction for `slots` listings of `category` (in `region`), and
 * shows them in auction order, each with the tracking number leased for this
 * showing (a `tel:` link) and a `<parley-call listing impression>` button.
 *
 * Attributes: `gateway` (the gateway's URL, required), `publisher` (the
 * publisher's placement key, required), `category` (required), `region`
 * (default `*`), `slots` (default 3), `token-url` (the call buttons' token
 * endpoint; without it no call button is shown), `device-id` (default: one
 * kept in localStorage), `call-label` (default "Call now").
 *
 * @fires parley-placement - `{ placementId, slots }` once the listings are shown.
 * @fires parley-error - `{ code, message }` when no placement could be had.
 *
 * @csspart list - The ordered list; each `listing` inside it has `title`, `description`, `number`.
 */
export class ParleyListings extends LitElement {
  static override properties = {
    gateway: {},
    publisher: {},
    category: {},
    region: {},
    slots: { type: Number },
    tokenUrl: { attribute: 'token-url' },
    deviceId: { attribute: 'device-id' },
    callLabel: { attribute: 'call-label' },
    placement: { state: true },
    failure: { state: true },
  };

  static override styles = css`
    :host {
      display: block;
      font-family: var(--parley-font, system-ui, sans-serif);
      color: var(--parley-text, #1f1f1f);
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 0.75rem;
    }
    li {
      border: 1px solid var(--parley-border, #c4c7c5);
      border-radius: var(--parley-radius, 0.5rem);
      padding: 0.75rem 1rem;
    }
    h3 {
      margin: 0 0 0.25rem;
      font-size: 1.05em;
    }
    p {
      margin: 0 0 0.5rem;
      color: var(--parley-muted-text, #5f6368);
    }
    a {
      color: var(--parley-accent, #0b57d0);
      font-weight: 600;
      font-variant-numeric: tabular-nums;
    }
    .error {
      color: var(--parley-danger, #b3261e);
    }
  `;

  declare gateway: string;
  declare publisher: string;
  declare category: string;
  declare region: string;
  declare slots: number;
  declare tokenUrl: string | undefined;
  declare deviceId: string | undefined;
  declare callLabel: string;
  declare protected placement: Placement | undefined;
  declare protected failure: PlacementError | undefined;
  #abort: AbortController | undefined;

  constructor() {
    super();
    this.gateway = '';
    this.publisher = '';
    this.category = '';
    this.region = '*';
    this.slots = 3;
    this.callLabel = 'Call now';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#abort?.abort();
  }

  /** Asks for a new placement (the element does once when it is connected). */
  async refresh(): Promise<void> {
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    try {
      const placement = await fetchPlacement(
        {
          gateway: this.gateway || location.origin,
          publisher: this.publisher,
          category: this.category,
          region: this.region,
          slots: this.slots,
          deviceId: this.deviceId || deviceId(),
          page: location.href,
        },
        abort.signal,
      );
      if (abort.signal.aborted) return;
      this.placement = placement;
      this.failure = undefined;
      this.dispatchEvent(
        new CustomEvent('parley-placement', { detail: placement, bubbles: true, composed: true }),
      );
    } catch (error) {
      if (abort.signal.aborted) return;
      this.failure =
        error instanceof PlacementError ? error : new PlacementError('call_failed', String(error));
      this.dispatchEvent(
        new CustomEvent('parley-error', {
          detail: { code: this.failure.code, message: this.failure.message },
          bubbles: true,
          composed: true,
        }),
      );
    }
  }

  protected override render(): TemplateResult {
    if (this.failure)
      return html`<p class="error" role="status">Listings are not available right now.</p>`;
    if (!this.placement) return html`<p role="status">Loading…</p>`;
    return html`<ol part="list" data-placement=${this.placement.placementId}>
      ${this.placement.slots.map(
        (s) =>
          html`<li part="listing" data-listing=${s.listing.id} data-impression=${s.impressionId}>
            <h3 part="title">${s.listing.title}</h3>
            ${s.listing.description ? html`<p part="description">${s.listing.description}</p>` : nothing}
            ${s.number ? html`<a part="number" href="tel:${s.number}">${s.number}</a>` : nothing}
            ${
              this.tokenUrl
                ? html`<parley-call
                    token-url=${this.tokenUrl}
                    listing=${s.listing.id}
                    impression=${s.reference}
                    label=${this.callLabel}
                  ></parley-call>`
                : nothing
            }
          </li>`,
      )}
    </ol>`;
  }
}
