/**
 * The media engine contract: what `calls/` relies on from any engine behind
 * the seam (engine.ts), checked with real peers. One suite, run against each
 * engine (`relay-engine.wrtc.test.ts`, `mediasoup/mediasoup-engine.wrtc.test.ts`):
 * - browsers: @roamhq/wrtc (libwebrtc, Chrome's stack) for audio, the data
 *   channel and ICE/DTLS; libdatachannel (node-datachannel) where a test must
 *   see each packet's payload type;
 * - SIP phones and trunks: plain UDP sockets that send a PCMU tone and record
 *   what arrives, byte for byte where it matters.
 * Audio is checked as audio: the tone one side sends is found, at its
 * frequency, in what the other side decodes.
 *
 * The peers are in peers.ts, what each case starts from in fixtures.ts, the
 * cases by theme: ice-restart.ts, bridging.ts (audio, data channel, NAT,
 * re-INVITE, desk, two browsers, two plain legs), rfc4733.ts (telephone
 * events and DTMF), lifecycle.ts (inactivity, refusals, closing).
 */
import { describe } from 'vitest';
import { bridgingCases } from './bridging.js';
import { contractFixtures, type EngineFactory } from './fixtures.js';
import { iceRestartCases } from './ice-restart.js';
import { lifecycleCases } from './lifecycle.js';
import { rfc4733Cases } from './rfc4733.js';

export {
  contractFixtures,
  type ContractFixtures,
  type EngineFactory,
  type EnginePorts,
} from './fixtures.js';
export { BROWSER_HZ, Browser, LOOPBACK, PCMU, PHONE_HZ, Phone } from './peers.js';

export function describeEngineContract(name: string, factory: EngineFactory): void {
  const fixtures = contractFixtures(`contract-${name}`, factory);
  describe(`${name}: the media engine contract`, () => {
    iceRestartCases(fixtures);
    bridgingCases(fixtures);
    rfc4733Cases(fixtures);
    lifecycleCases(fixtures);
  });
}
