/**
 * The desk's "Live" card: who waits in the agent's queues, the callbacks of
 * its queues and the flows of calls that may reach it, as `LiveActivity`
 * keeps them. Presentational.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { DeskCallbackView, QueueView } from '@parley/shared/protocol';
import { callbackPhaseText, callbackWhoText } from './callback-text.js';
import type { LiveActivity, LiveFlow } from './live-activity.js';

export function livePanel(live: LiveActivity): TemplateResult | typeof nothing {
  const flows = live.flows;
  const callbacks = live.callbacks;
  const queues = live.queues;
  if (flows.length === 0 && callbacks.length === 0 && queues.length === 0) return nothing;
  return html`
    <section part="live" class="card" aria-labelledby="live-title" aria-live="polite">
      <h2 id="live-title">Live</h2>
      ${queues.map(queueItem)}
      ${
        callbacks.length > 0
          ? html`<ul part="live-callbacks" class="previous">
              ${callbacks.map(callbackItem)}
            </ul>`
          : nothing
      }
      ${
        flows.length > 0
          ? html`<ul part="live-flows" class="previous">
              ${flows.map(flowItem)}
            </ul>`
          : nothing
      }
    </section>
  `;
}

function queueItem(queue: QueueView): TemplateResult {
  return html`<div part="live-queue" data-queue=${queue.queue}>
    <strong>Waiting in ${queue.queue}: ${queue.waiting}</strong>
    <span class="muted">
      ${queue.offered > 0 ? `${queue.offered} being offered · ` : ''}longest
      ${queue.longestWaitSeconds} s
    </span>
    <ol part="live-queue-callers">
      ${queue.callers.map(
        (c) =>
          html`<li>${c.from ?? c.sessionNumber ?? c.customerId ?? c.channel} (${c.channel})</li>`,
      )}
    </ol>
  </div>`;
}

function callbackItem(view: DeskCallbackView): TemplateResult {
  return html`<li part="live-callback" data-callback=${view.id} data-phase=${view.phase}>
    <strong>Callback for ${view.advertiserName}</strong>
    <span class="muted">${callbackWhoText(view)}</span>
    <div part="live-callback-phase">${callbackPhaseText(view)}</div>
  </li>`;
}

function flowItem(flow: LiveFlow): TemplateResult {
  return html`<li part="live-flow" data-call=${flow.callId} ?data-ended=${flow.ended}>
    <strong>Call in flow ${flow.flow}</strong>
    <span class="muted">${flow.ended ? 'flow over' : (flow.now ?? '')}</span>
    ${
      flow.steps.length > 0
        ? html`<ol part="live-flow-steps">
            ${flow.steps.map((step) => html`<li>${step}</li>`)}
          </ol>`
        : nothing
    }
  </li>`;
}
