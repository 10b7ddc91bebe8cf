/**
 * `parley.js`, the script a company's page loads:
 *
 * ```html
 * <script type="module" src="https://…/parley.js"></script>
 * <parley-call token-url="/api/call-token" queue="sales" label="Talk to us"></parley-call>
 * ```
 *
 * It defines the element and nothing else; the call stack (sip.js and the
 * CallClient) is a separate chunk, imported when the button comes into view
 * (unless `warm="hover"`) or on the first hover, focus or click,
 * and the marketplace's `<parley-listings>` and `<parley-marketplace-report>`
 * another, imported when the page has one of them; so is "call me back"
 * (`<parley-callback>`, libphonenumber-js).
 */
import type { CallStack } from './api/call-stack.js';
import { ParleyCall } from './call-element/parley-call.js';
import { lazyDefine } from './lazy-define.js';

/** The defined `<parley-call>`: ParleyCall with its call stack loader. */
export class ParleyCallElement extends ParleyCall {
  protected override loadCallStack(): Promise<CallStack> {
    return import('./client/index.js');
  }
}

if (!customElements.get('parley-call')) customElements.define('parley-call', ParleyCallElement);

// The marketplace's elements are a chunk of their own, loaded when a page uses one.
lazyDefine(
  ['parley-listings', 'parley-marketplace-report'],
  () => import('./marketplace/index.js'),
);
// "Call me back" (with libphonenumber-js) too: for `<parley-call callback>` and the element alone.
lazyDefine(['parley-callback', 'parley-call[callback]'], () => import('./callback/index.js'));

declare global {
  interface HTMLElementTagNameMap {
    'parley-call': ParleyCall;
  }
}

export { ParleyCall } from './call-element/parley-call.js';
export { CALL_STATES, type CallState } from './api/call-state.js';
export { DTMF_DIGITS, type DtmfDigit } from './api/call-stack.js';
export type {
  ParleyErrorDetail,
  ParleyHoldDetail,
  ParleyMessageDetail,
  ParleyQueueDetail,
  ParleyStateDetail,
} from './api/events.js';
export { MessageRejectedError, type MessageRejectedReason } from './api/message-rejected-error.js';
export type { ParleyMessage, ChatMessage } from '@parley/shared/protocol';
export type { ParleyCallbackDetail } from './callback/callback-controller.js';
