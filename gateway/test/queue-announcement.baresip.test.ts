/**
 * What a caller waiting in a queue hears (docs/flows.md, "Queues"): a baresip
 * phone on the carrier's side (127.0.0.2, on the trunk's access list) calls a
 * DID whose flow is `enqueue sales` while the queue's only agent is busy; the
 * gateway answers and says the place and the estimated wait. The phone records
 * what it receives and pocketsphinx finds the announcement's words in it.
 */
import { statSync } from 'node:fs';
import {
  stopAll,
  startBaresipAgent,
  transcribe,
  until,
  wordsFound,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CARRIER, carrierTrunk } from './carrier.js';
import { registeredAgent, startTestGateway, type TestGateway } from './harness.js';
import { callersWaiting } from './queue-wait.js';

const DID = '+14155550144';
/** The default announcement with one caller and one busy agent (AHT 180 s: three minutes). */
const SAID = 'you are number one in the queue the wait is about three minutes';

let gw: TestGateway;
let agent: BaresipAgent;
let phone: BaresipAgent;

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }],
    // Said once, when the caller joins; the rest is the hold tone.
    queueExtra: { waiting: { announceEverySeconds: 0 } },
    config: {
      flows: { 'wait-line': [{ verb: 'enqueue', queue: 'sales' }] },
      trunks: { carrier: carrierTrunk({ dids: { [DID]: 'wait-line' } }) },
    },
  });
  agent = await registeredAgent(gw);
});
afterAll(async () => {
  await phone?.stop();
  await agent?.stop();
  await gw?.close();
  await stopAll();
});

it(
  'says the caller’s place and the estimated wait, words pocketsphinx finds',
  { timeout: 90_000 },
  async () => {
    // The agent is on another call (the directory's own busy state): the caller waits.
    const endOtherCall = gw.gateway.agents.callStarted('agent1');
    try {
      phone = await startBaresipAgent({ user: '4155550177', address: CARRIER, codecs: ['PCMU'] });
      const waiting = callersWaiting(gw.gateway, 'sales', 1);
      const since = phone.mark();
      await phone.dial(`sip:${DID}@${gw.udp}`);
      await phone.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since });
      await waiting;
      // Eight seconds of what it heard (16-bit 8 kHz WAV): the announcement and some hold tone.
      const recording = await until(
        () => {
          const path = phone.lastRecording().received;
          const size =
            path === undefined ? 0 : (statSync(path, { throwIfNoEntry: false })?.size ?? 0);
          return size > 8 * 16_000 ? path : undefined;
        },
        'eight seconds recorded by the caller',
        30_000,
      );
      const closed = phone.mark();
      await phone.hangup();
      await phone.waitForEvent('CALL_CLOSED', undefined, 10_000, { since: closed });
      const words = await transcribe(recording, { narrowband: true });
      expect(wordsFound(SAID, words), words).toBeGreaterThanOrEqual(6);
      expect(words).toMatch(/you are number one/);
    } finally {
      endOtherCall();
    }
  },
);
