/**
 * The desk's "Live" card: the flows of calls that may reach the agent, as
 * `LiveActivity` keeps them. Presentational.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { LiveActivity, LiveFlow } from './live-activity.js';

export function livePanel(live: LiveActivity): TemplateResult | typeof nothing {
  const flows = live.flows;
  if (flows.length === 0) return nothing;
  return html`
    <section part="live" class="card" aria-labelledby="live-title" aria-live="polite">
      <h2 id="live-title">Live</h2>
      <ul part="live-flows" class="previous">
        ${flows.map(flowItem)}
      </ul>
    </section>
  `;
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
