/**
 * `<parley-voicemail-desk>`: the agent's voicemail page, served by the
 * gateway at `/desk/voicemail` (desk session: sign in at `/desk`). Messages
 * being recorded show who is calling (session number, page, claims) and
 * their text as it is recognised, word by word, with "Take the call" (the
 * agent's phone or desk softphone rings; answered, the caller is bridged to
 * it). Below, the inbox: every message of the agent's queues with its
 * transcript, what the caller typed, a player (the WAV, seekable), and
 * "Mark heard" / "Delete". A message marked heard or deleted on another
 * desk (or through the API, on any gateway) changes here too, from the
 * `voicemail-heard` / `voicemail-deleted` frames of the events socket.
 *
 * @csspart board - The whole page.
 * @csspart live - A message being recorded (caller, live-text, take-button).
 * @csspart inbox - The list of messages (message, transcript, typed, player, heard-button, delete-button).
 * @csspart error - What went wrong (e.g. "already taken").
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { VoicemailView } from '@parley/shared/protocol';
import { VoicemailBoard, parseVoicemailEvent, type VoicemailItem } from './voicemail-board.js';

const API = '/desk/api';

export class ParleyVoicemailDesk extends LitElement {
  static override properties = {
    _state: { state: true },
    _error: { state: true },
  };

  static override styles = css`
    :host {
      display: block;
      max-width: 56rem;
      margin: 0 auto;
      padding: 1rem;
      color: #1f1f1f;
      font-family: var(--parley-font, system-ui, sans-serif);
    }
    section {
      background: #fff;
      border: 1px solid #c4c7c5;
      border-radius: 0.5rem;
      padding: 0.75rem 1rem;
      margin-bottom: 0.75rem;
    }
    .live {
      border: 2px solid var(--parley-accent, #0b57d0);
    }
    .partial {
      color: #5f6368;
      font-style: italic;
    }
    .meta {
      color: #5f6368;
      font-size: 0.875rem;
    }
    button {
      font: inherit;
      padding: 0.4rem 0.9rem;
      border-radius: 0.5rem;
      border: 0;
      background: var(--parley-success, #146c2e);
      color: #fff;
      cursor: pointer;
    }
    button[disabled] {
      opacity: 0.6;
    }
    button.secondary {
      background: #5f6368;
    }
    button.danger {
      background: var(--parley-danger, #b3261e);
    }
    .actions {
      display: flex;
      gap: 0.5rem;
      margin-top: 0.5rem;
    }
    .typed {
      margin: 0.25rem 0;
      padding-left: 1.25rem;
    }
    .new {
      color: var(--parley-accent, #0b57d0);
      font-weight: 600;
    }
    .error {
      color: var(--parley-danger, #b3261e);
    }
    audio {
      width: 100%;
      margin-top: 0.5rem;
    }
  `;

  declare _state: 'loading' | 'signed-out' | 'ready';
  declare _error: string;
  readonly #board = new VoicemailBoard();
  readonly #taking = new Set<string>();
  /** Voicemails with a "mark heard" or "delete" request in flight. */
  readonly #busy = new Set<string>();
  #socket: WebSocket | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #connected = false;

  constructor() {
    super();
    this._state = 'loading';
    this._error = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#connected = true;
    void this.#load();
    this.#listen();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#connected = false;
    clearTimeout(this.#retry);
    this.#socket?.close();
  }

  /** The list; a failure is shown (on the first load instead of "Loading…", which would stay for ever). */
  async #load(): Promise<void> {
    let body: { voicemails: VoicemailView[] };
    try {
      const res = await fetch(`${API}/voicemails?limit=100`, { credentials: 'same-origin' });
      if (res.status === 401) {
        this._state = 'signed-out';
        return;
      }
      if (!res.ok) {
        this._error = `the voicemails could not be loaded (HTTP ${res.status})`;
        return;
      }
      body = (await res.json()) as { voicemails: VoicemailView[] };
    } catch (error) {
      this._error = `the voicemails could not be loaded (${String(error)})`;
      return;
    }
    this.#board.load(body.voicemails);
    this._state = 'ready';
    this.requestUpdate();
  }

  /** The desk's events socket: the `voicemail-*` frames of the agent's queues. */
  #listen(): void {
    const url = new URL(`${API}/events`, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.addEventListener('message', (message) => {
      const event = parseVoicemailEvent(message.data);
      if (event && this.#board.apply(event)) this.requestUpdate();
    });
    socket.addEventListener('close', () => {
      if (!this.#connected) return;
      // A dropped socket: reload the list (what ended meanwhile) and listen again.
      this.#retry = setTimeout(() => {
        void this.#load();
        this.#listen();
      }, 2000);
    });
  }

  async #take(id: string): Promise<void> {
    this.#taking.add(id);
    this._error = '';
    this.requestUpdate();
    try {
      const res = await fetch(`${API}/voicemails/${encodeURIComponent(id)}/take`, {
        method: 'POST',
        credentials: 'same-origin',
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
        this._error =
          res.status === 409
            ? `Already taken: ${body.error?.message ?? 'another agent took the call'}`
            : (body.error?.message ?? `the call could not be taken (HTTP ${res.status})`);
        return;
      }
      this.#board.load([(await res.json()) as VoicemailView]);
    } finally {
      this.#taking.delete(id);
      this.requestUpdate();
    }
  }

  /** "Mark heard" (`heard`) or "Delete": the board follows the answer. */
  async #act(id: string, action: 'heard' | 'delete'): Promise<void> {
    this.#busy.add(id);
    this._error = '';
    this.requestUpdate();
    try {
      const url = `${API}/voicemails/${encodeURIComponent(id)}${action === 'heard' ? '/heard' : ''}`;
      const res = await fetch(url, {
        method: action === 'heard' ? 'POST' : 'DELETE',
        credentials: 'same-origin',
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
        this._error = `the voicemail could not be ${action === 'heard' ? 'marked heard' : 'deleted'}: ${body.error?.message ?? `HTTP ${res.status}`}`;
        return;
      }
      if (action === 'delete') this.#board.remove(id);
      else this.#board.load([(await res.json()) as VoicemailView]);
    } catch (error) {
      this._error = String(error);
    } finally {
      this.#busy.delete(id);
      this.requestUpdate();
    }
  }

  override render(): TemplateResult {
    if (this._state === 'loading')
      return this._error
        ? html`<p part="board">
            <span class="error" part="error" role="alert">${this._error}</span>
          </p>`
        : html`<p part="board">Loading…</p>`;
    if (this._state === 'signed-out')
      return html`<p part="board">
        Sign in at <a href="/desk">the desk</a> first, then come back.
      </p>`;
    const items = this.#board.items;
    const live = items.filter((i) => i.voicemail.status === 'recording');
    const past = items.filter((i) => i.voicemail.status !== 'recording');
    return html`<div part="board">
      <h1>Voicemail</h1>
      ${this._error ? html`<p class="error" part="error" role="alert">${this._error}</p>` : nothing}
      <h2>Leaving a message now</h2>
      ${
        live.length === 0
          ? html`<p class="meta">Nobody is leaving a message.</p>`
          : live.map((item) => this.#live(item))
      }
      <h2>Inbox</h2>
      ${
        past.length === 0
          ? html`<p class="meta">No messages.</p>`
          : html`<div part="inbox">${past.map((item) => this.#past(item))}</div>`
      }
    </div> `;
  }

  #caller(v: VoicemailView): TemplateResult {
    const name = v.privateClaims?.['name'];
    return html`<div part="caller">
      <strong>${typeof name === 'string' ? name : v.sessionNumber}</strong>
      <span class="meta">
        ${typeof name === 'string' ? v.sessionNumber : nothing} · queue ${v.queue}
        ${v.page ? html` · from <span part="page">${v.page}</span>` : nothing} ·
        ${new Date(v.createdAt).toLocaleString()}
      </span>
    </div>`;
  }

  #live(item: VoicemailItem): TemplateResult {
    const v = item.voicemail;
    const taking = this.#taking.has(v.id);
    return html`<section class="live" part="live" data-voicemail=${v.id}>
      ${this.#caller(v)}
      <p part="live-text" aria-live="polite">
        ${item.finals.join(' ')}
        <span class="partial" part="partial">${item.partial}</span>
      </p>
      ${this.#typed(v)}
      <button part="take-button" ?disabled=${taking} @click=${() => void this.#take(v.id)}>
        ${taking ? 'Ringing your phone…' : 'Take the call'}
      </button>
    </section>`;
  }

  #past(item: VoicemailItem): TemplateResult {
    const v = item.voicemail;
    const status =
      v.status === 'taken'
        ? `taken by ${v.takenBy ?? 'an agent'}`
        : v.status === 'left'
          ? 'message left'
          : v.status;
    const text = v.transcript ?? item.finals.join(' ');
    const busy = this.#busy.has(v.id);
    return html`<section part="message" data-voicemail=${v.id}>
      ${this.#caller(v)}
      <div class="meta">
        ${v.heardAt === null ? html`<span class="new" part="unheard">new</span> · ` : nothing}
        ${status} · ${Math.round(v.durationMs / 1000)} s
        ${v.heardAt !== null ? html` · heard${v.heardBy ? ` by ${v.heardBy}` : ''}` : nothing}
      </div>
      <p part="transcript">
        ${text || html`<span class="meta">(no words recognised)</span>`}
        ${
          v.transcriptError
            ? html`<span class="error">(transcription failed: ${v.transcriptError})</span>`
            : nothing
        }
      </p>
      ${
        v.hasRecording
          ? html`<audio
              part="player"
              controls
              preload="metadata"
              src=${`${API}/voicemails/${encodeURIComponent(v.id)}/recording`}
            ></audio>`
          : nothing
      }
      ${this.#typed(v)}
      <div class="actions">
        ${
          v.heardAt === null
            ? html`<button
                part="heard-button"
                class="secondary"
                ?disabled=${busy}
                @click=${() => void this.#act(v.id, 'heard')}
              >
                Mark heard
              </button>`
            : nothing
        }
        <button
          part="delete-button"
          class="danger"
          ?disabled=${busy}
          @click=${() => void this.#act(v.id, 'delete')}
        >
          Delete
        </button>
      </div>
    </section>`;
  }

  /** What the caller typed on the call's data channel (a browser caller may type instead of speaking). */
  #typed(v: VoicemailView): TemplateResult | typeof nothing {
    const typed = v.typed ?? [];
    if (typed.length === 0) return nothing;
    return html`<div part="typed">
      <span class="meta">Typed by the caller:</span>
      <ul class="typed">
        ${typed.map(
          (t) =>
            html`<li>
              ${t.text} <span class="meta">(${new Date(t.at).toLocaleTimeString()})</span>
            </li>`,
        )}
      </ul>
    </div>`;
  }
}
