/**
 * `desk.js`, the agent desk's script (served by the gateway at
 * `/desk/assets/desk.js` for the page at `/desk`):
 *
 * ```html
 * <script type="module" src="/desk/assets/desk.js"></script>
 * <parley-agent-desk></parley-agent-desk>
 * ```
 *
 * One file with Lit and sip.js: the desk registers as the agent's phone at
 * sign-in, so there is nothing to load later.
 */
import type { DeskControllerDeps } from './desk-controller.js';
import { ParleyAgentDesk } from './parley-agent-desk.js';
import { createDeskServices } from './services.js';
// The voicemail page (`/desk/voicemail`) loads this file too.
import '../voicemail/index.js';

/** The defined `<parley-agent-desk>`: ParleyAgentDesk with the browser's services. */
export class ParleyAgentDeskElement extends ParleyAgentDesk {
  protected override createDeskServices(): DeskControllerDeps {
    return createDeskServices();
  }
}

if (!customElements.get('parley-agent-desk'))
  customElements.define('parley-agent-desk', ParleyAgentDeskElement);

declare global {
  interface HTMLElementTagNameMap {
    'parley-agent-desk': ParleyAgentDesk;
  }
}

export { ParleyAgentDesk } from './parley-agent-desk.js';
export { DeskController } from './desk-controller.js';
export { DeskClient, type DeskConnection } from './desk-client.js';
export { DeskApiError } from './desk-api-error.js';
export { Softphone } from './softphone.js';
export type { PhoneStatus, PhoneCallState } from './softphone-types.js';
export { SoftphoneError } from './softphone-error.js';
export type * from './desk-events.js';
export type * from './desk-protocol.js';
