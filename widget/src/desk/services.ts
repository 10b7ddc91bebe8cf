/**
 * The desk's composition root: the DeskController's services made of the
 * browser's fetch, WebSocket, microphone, WebAudio and localStorage, and sip.js.
 */
import { createRingback } from '../client/ringback.js';
import type { DeskControllerDeps, DeskPreferences } from './desk-controller.js';
import { DeskClient } from './desk-client.js';
import { Softphone } from './softphone.js';
import { createSipJsPhoneStack } from './sipjs-phone-stack.js';

export function createDeskServices(): DeskControllerDeps {
  return {
    client: new DeskClient({
      fetch: (url, init) => fetch(url, init),
      openSocket: (url) => new WebSocket(url),
      baseUrl: document.baseURI,
    }),
    phone: new Softphone({
      stack: createSipJsPhoneStack(),
      getUserMedia: (constraints) => {
        // Absent outside secure contexts (http: pages other than localhost).
        if (!navigator.mediaDevices)
          return Promise.reject(new Error('no navigator.mediaDevices (insecure context?)'));
        return navigator.mediaDevices.getUserMedia(constraints);
      },
    }),
    ringTone: () => createRingback(),
    preferences: localPreferences(),
  };
}

/** localStorage, when the browser allows it (it throws in some private modes). */
function localPreferences(): DeskPreferences | undefined {
  try {
    const storage = window.localStorage;
    return {
      get: (key) => storage.getItem(key),
      set: (key, value) => {
        try {
          storage.setItem(key, value);
        } catch {
          // full or refused: the choice lasts until the page closes
        }
      },
    };
  } catch {
    return undefined;
  }
}
