/**
 * `resident.js`, the resident phone's script (served by the gateway at
 * `/widget/resident.js`, and the page `/resident` loads it):
 *
 * ```html
 * <script type="module" src="https://gateway.example/widget/resident.js"></script>
 * <parley-resident-phone tenant="facility" device="tab-7" secret="…"></parley-resident-phone>
 * ```
 *
 * One file with Lit and sip.js (like `desk.js`): the device registers at once.
 */
import { createRingback } from '../client/ringback.js';
import { createSipJsPhoneStack } from '../desk/sipjs-phone-stack.js';
import { Softphone } from '../desk/softphone.js';
import { ParleyResidentPhone } from './parley-resident-phone.js';
import { ResidentClient } from './resident-client.js';

/** The defined `<parley-resident-phone>`: ParleyResidentPhone with the browser's services. */
export class ParleyResidentPhoneElement extends ParleyResidentPhone {
  protected override createServices(gatewayUrl: string) {
    return {
      client: new ResidentClient({ fetch: (url, init) => fetch(url, init), gatewayUrl }),
      phone: new Softphone({
        stack: createSipJsPhoneStack(),
        getUserMedia: (constraints) => {
          if (!navigator.mediaDevices)
            return Promise.reject(new Error('no navigator.mediaDevices (insecure context?)'));
          return navigator.mediaDevices.getUserMedia(constraints);
        },
      }),
      ringTone: () => createRingback(),
    };
  }
}

if (!customElements.get('parley-resident-phone'))
  customElements.define('parley-resident-phone', ParleyResidentPhoneElement);

declare global {
  interface HTMLElementTagNameMap {
    'parley-resident-phone': ParleyResidentPhone;
  }
}

export { ParleyResidentPhone } from './parley-resident-phone.js';
export { ResidentController, type ResidentPhase } from './resident-controller.js';
export { ResidentClient } from './resident-client.js';
