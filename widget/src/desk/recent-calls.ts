/** The agent desk's "Recent calls" card: the agent's last calls, with a refresh. */
import { html, nothing, type TemplateResult } from 'lit';
import type { DeskController } from './desk-controller.js';
import type { CallSummary } from './desk-protocol.js';
import { formatDuration, formatWhen, outcomeText, talkMs } from './desk-text.js';

export function recentCalls(desk: DeskController): TemplateResult {
  return html`
    <section part="recent" class="card" aria-labelledby="recent-title">
      <div class="row">
        <h2 id="recent-title" class="spacer">Recent calls</h2>
        <button part="button" class="secondary" @click=${() => void desk.refreshRecent()}>
          Refresh
        </button>
      </div>
      ${desk.recentError ? html`<p class="error-text" role="alert">${desk.recentError}</p>` : nothing}
      ${
        desk.recent.length === 0
          ? html`<p class="muted">No calls yet.</p>`
          : html`<table part="recent-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Caller</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Talk time</th>
                </tr>
              </thead>
              <tbody>
                ${desk.recent.map((call) => recentRow(call))}
              </tbody>
            </table>`
      }
    </section>
  `;
}

function recentRow(call: CallSummary): TemplateResult {
  const talk = talkMs(call);
  return html`<tr>
    <td><time datetime=${call.createdAt}>${formatWhen(call.createdAt)}</time></td>
    <td class="num">${call.sessionNumber}</td>
    <td>${call.customerId ?? '—'}</td>
    <td>${outcomeText(call.outcome, call.reason)}</td>
    <td class="num">${talk === undefined ? '—' : formatDuration(talk)}</td>
  </tr>`;
}
