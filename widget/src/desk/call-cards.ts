/**
 * The agent desk's call cards, one per phase of a call: ringing, in progress
 * (with its chat), just ended. Presentational: what a button does is
 * `DeskController`'s.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { callDetails } from './call-details.js';
import type { ActiveCall, DeskController, EndedCall, RingingCall } from './desk-controller.js';
import { callerName, formatDuration, outcomeText } from './desk-text.js';

/** An incoming call: who calls, Answer and Decline (or where to answer it). */
export function ringingCard(desk: DeskController, ring: RingingCall): TemplateResult {
  const context = ring.context;
  const titleId = `ring-${ring.callId}`;
  let actions: TemplateResult;
  if (!desk.softphone) {
    actions = html`<p class="muted">Answer on your phone.</p>`;
  } else if (ring.phone === 'ringing') {
    actions = html`
      <button
        part="button answer-button"
        class="answer"
        data-focus
        @click=${() => void desk.answer(ring.callId)}
      >
        Answer
      </button>
      <button
        part="button decline-button"
        class="danger"
        @click=${() => void desk.decline(ring.callId)}
      >
        Decline
      </button>
    `;
  } else if (ring.phone === 'answering') {
    actions = html`<button part="button answer-button" class="answer" disabled>Answering…</button>`;
  } else {
    actions = html`<p class="muted">
      ${
        desk.phone.status === 'registered'
          ? 'Connecting the call to this browser…'
          : 'This browser is not registered as your phone; answer on your SIP phone.'
      }
    </p>`;
  }
  return html`
    <section part="ringing" class="card ring-card" aria-labelledby=${titleId}>
      <h2 id=${titleId}>Incoming call${context?.queue ? html` on ${context.queue}` : nothing}</h2>
      ${
        context
          ? html`<p part="caller-number" class="number">${context.sessionNumber || '—'}</p>
              <p part="caller-name" class="caller">${callerName(context)}</p>`
          : html`<p class="muted">Loading the caller's details…</p>`
      }
      <div class="row">${actions}</div>
      ${context ? callDetails(context, ring.page) : nothing}
    </section>
  `;
}

/** The call in progress: timer, mute, hold, hang up, the chat and the details. */
export function callCard(
  desk: DeskController,
  call: ActiveCall,
  submitChat: (event: SubmitEvent) => void,
): TemplateResult {
  const context = call.context;
  const held = call.here && desk.held;
  const elapsed = formatDuration(desk.now() - call.answeredAt);
  return html`
    <section part="call" class="card" aria-labelledby="call-title">
      <h2 id="call-title">On a call${context ? html` with ${callerName(context)}` : nothing}</h2>
      ${
        context
          ? html`<p part="caller-number" class="number">${context.sessionNumber || '—'}</p>`
          : nothing
      }
      <div class="row">
        <span part="timer" class="timer spacer" role="timer" aria-label="Call duration"
          >${elapsed}</span
        >
        ${held ? html`<span part="hold-status" class="badge warn">On hold</span>` : nothing}
        ${
          call.ending
            ? html`<span class="muted">Hanging up…</span>`
            : call.here
              ? html`
                  <button
                    part="button mute-button"
                    class="secondary"
                    aria-pressed=${desk.muted ? 'true' : 'false'}
                    ?disabled=${held}
                    @click=${() => desk.toggleMute()}
                  >
                    ${desk.muted ? 'Unmute' : 'Mute'}
                  </button>
                  <button
                    part="button hold-button"
                    class="secondary"
                    aria-pressed=${held ? 'true' : 'false'}
                    @click=${() => desk.toggleHold()}
                  >
                    ${held ? 'Resume' : 'Hold'}
                  </button>
                  <button
                    part="button hangup-button"
                    class="danger"
                    data-focus
                    @click=${() => void desk.hangup()}
                  >
                    Hang up
                  </button>
                `
              : html`<span class="muted">Answered on your phone: hang up there.</span>`
        }
      </div>
      ${chatPanel(desk, call, submitChat)}
      ${
        // The desk shows the calls of its own agent: this one took it.
        context ? callDetails(context, call.page, desk.agent?.id) : nothing
      }
    </section>
  `;
}

function chatPanel(
  desk: DeskController,
  call: ActiveCall,
  submitChat: (event: SubmitEvent) => void,
): TemplateResult {
  const canSend = desk.connection === 'open' && !call.ending;
  return html`
    <section part="chat" class="chat" aria-label="Chat with the visitor">
      <ol part="chat-log" class="log" role="log" aria-label="Messages">
        ${call.chat.map(
          (entry) =>
            html`<li part="message" class=${entry.from}>
              ${
                entry.from === 'visitor' || entry.from === 'agent'
                  ? html`<span class="from">${entry.from === 'agent' ? 'You' : 'Visitor'}:</span> `
                  : nothing
              }${entry.text}
            </li>`,
        )}
      </ol>
      <form @submit=${submitChat}>
        <label class="visually-hidden" for="chat-input">Message to the visitor</label>
        <input
          id="chat-input"
          part="chat-input"
          name="text"
          autocomplete="off"
          maxlength="2000"
          placeholder=${canSend ? 'Type a message' : 'Chat is not connected'}
          ?disabled=${!canSend}
          data-focus=${call.here ? nothing : ''}
        />
        <button part="button chat-send" type="submit" ?disabled=${!canSend}>Send</button>
      </form>
    </section>
  `;
}

/** The summary of the call that just ended. */
export function endedCard(ended: EndedCall): TemplateResult {
  return html`
    <section part="ended" class="card" aria-labelledby="ended-title">
      <h2 id="ended-title" tabindex="-1" data-focus>
        Call ended${ended.context ? html` with ${callerName(ended.context)}` : nothing}
      </h2>
      <p>
        ${
          ended.outcome === null && ended.reason === null
            ? 'Ended'
            : outcomeText(ended.outcome, ended.reason)
        },
        talk time ${formatDuration(ended.talkMs)}.
      </p>
    </section>
  `;
}
