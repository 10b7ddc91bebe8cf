/**
 * The call's details panel of the agent desk (ringing and in a call): the
 * customer, the visit, the value of the routing decision, what the call's
 * flow did, and the session's previous calls.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { NavigationMessage } from '@parley/shared/protocol';
import type { CallContext } from './desk-protocol.js';
import {
  customerRows,
  formatWhen,
  pageRows,
  previousCallText,
  valueRows,
  type Row,
} from './desk-text.js';
import { flowStepText } from './flow-text.js';

export function callDetails(
  context: CallContext,
  page: NavigationMessage | undefined,
  /** The agent who took the call (the desk's own agent, once answered). */
  answeredBy?: string,
): TemplateResult {
  const customer = customerRows(context);
  const where = pageRows(context, page);
  const routing = context.routing;
  return html`
    <div part="details" class="details">
      <section aria-label="Customer">
        <h3>Customer</h3>
        ${
          customer.length > 0
            ? rows(customer)
            : html`<p class="muted">The company sent no customer details.</p>`
        }
      </section>
      <section aria-label="Visit">
        <h3>Visit</h3>
        ${rows(where)}
      </section>
      <section aria-label="Value">
        <h3>Value</h3>
        ${
          routing
            ? rows(valueRows(routing, { answeredBy }))
            : html`<p class="muted">No routing decision.</p>`
        }
      </section>
      ${flowSteps(context)}
      <section aria-label="Previous calls">
        <h3>Previous calls</h3>
        ${
          context.previousCalls.length > 0
            ? html`<ul class="previous">
                ${context.previousCalls.map(
                  (c) =>
                    html`<li>
                      <time datetime=${c.createdAt}>${formatWhen(c.createdAt)}</time>:
                      ${previousCallText(c)}
                    </li>`,
                )}
              </ul>`
            : html`<p class="muted">First call of this session.</p>`
        }
      </section>
    </div>
  `;
}

/** What the call's flow did before it reached the agent (the phone menu), when one ran. */
function flowSteps(context: CallContext): TemplateResult | typeof nothing {
  const lines = (context.flow ?? []).flatMap((e) => flowStepText(e) ?? []);
  if (lines.length === 0) return nothing;
  return html`<section aria-label="Before the call" part="flow">
    <h3>Before the call</h3>
    <ol class="previous">
      ${lines.map((line) => html`<li>${line}</li>`)}
    </ol>
  </section>`;
}

function rows(list: readonly Row[]): TemplateResult {
  return html`<dl>
    ${list.map(
      (row) =>
        html`<dt>${row.label}</dt>
          <dd class=${row.warning ? 'warning' : ''}>${row.warning ? '⚠ ' : ''}${row.value}</dd>`,
    )}
  </dl>`;
}
