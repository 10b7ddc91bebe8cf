/**
 * The "call me back" chunk: `<parley-callback>` with libphonenumber-js,
 * loaded only by pages that use it (`<parley-call callback>` or the element).
 */
import { ParleyCallback } from './parley-callback.js';

if (!customElements.get('parley-callback'))
  customElements.define('parley-callback', ParleyCallback);

declare global {
  interface HTMLElementTagNameMap {
    'parley-callback': ParleyCallback;
  }
}

export { ParleyCallback };
export type { ParleyCallbackDetail } from './callback-controller.js';
