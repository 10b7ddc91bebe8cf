/**
 * The call stack: the chunk `../index.ts` loads when the button comes into
 * view or on the first interaction with it. Its composition root: the
 * CallClient with the browser's microphone, fetch, WebAudio and sip.js, hung
 * up when the page goes.
 */
import type { CallClientApi, CallClientOptions } from '../api/call-stack.js';
import { CallClient } from './call-client.js';
import { hangUpOnPageHide } from './page-hide.js';
import { createRingback } from './ringback.js';
import { createSipJsStack, warmSipJs } from './sipjs-stack.js';

// Loaded ahead (the button came into view), sip.js's code is run once while the
// page is idle, not when the pointer arrives; a hover before that runs it at once.
if (typeof requestIdleCallback === 'function') requestIdleCallback(warmSipJs);
else setTimeout(warmSipJs, 50);

export function createCallClient(options: CallClientOptions): CallClientApi {
  const client = new CallClient(options, {
    sip: createSipJsStack(),
    getUserMedia: (constraints) => {
      // Absent outside secure contexts (http: pages other than localhost).
      if (!navigator.mediaDevices)
        return Promise.reject(new Error('no navigator.mediaDevices (insecure context?)'));
      return navigator.mediaDevices.getUserMedia(constraints);
    },
    fetch: (url, init) => fetch(url, init),
    ringback: () => createRingback(),
    baseUrl: document.baseURI,
    now: () => performance.now(),
    wallClock: () => Date.now(),
    newId: () => crypto.randomUUID(),
    // Throws where there is no navigator.permissions; rejects where `microphone` is unknown.
    microphonePermission: () => navigator.permissions.query({ name: 'microphone' }),
  });
  // The tab closed or the page left mid-call: the call is hung up, not held for the grace period.
  hangUpOnPageHide(client, window);
  return client;
}

export { CallClient, type CallClientDeps } from './call-client.js';
