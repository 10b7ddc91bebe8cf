/**
 * The desk's "Live" card: the flows of calls that may reach the agent and the
 * callbacks of its queues, as `LiveActivity` keeps them. Presentational.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { DeskCallbackView } from '@parley/shared/protocol';
import { callbackPhaseText, callbackWhoText } from './callback-text.js';
import type { LiveActivity, LiveFlow } from './live-activity.js';

export function livePanel(live: LiveActivity): TemplateResult | typeof nothing {
  const flows = live.flows;
  const callbacks = live.callbacks;
  if (flows.length === 0 && callbacks.length === 0) return nothing;
  return html`
    <section part="live" class="card" aria-labelledby="live-title" aria-live="polite">
      <h2 id="live-title">Live</h2>
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
