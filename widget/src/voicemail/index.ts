/** `<parley-voicemail-desk>`, in desk.js (the page at `/desk/voicemail`). */
import { ParleyVoicemailDesk } from './parley-voicemail-desk.js';

if (!customElements.get('parley-voicemail-desk'))
  customElements.define('parley-voicemail-desk', ParleyVoicemailDesk);

declare global {
  interface HTMLElementTagNameMap {
    'parley-voicemail-desk': ParleyVoicemailDesk;
  }
}

export { ParleyVoicemailDesk } from './parley-voicemail-desk.js';
export { VoicemailBoard, parseVoicemailEvent, type VoicemailItem } from './voicemail-board.js';
