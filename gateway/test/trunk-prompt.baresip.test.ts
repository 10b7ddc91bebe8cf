/**
 * A phone on the carrier's side calls a DID and hears its flow's prompt: a
 * baresip phone at the carrier's address (127.0.0.2, on the trunk's access
 * list) dials the DID straight at the gateway, the DID's flow answers it and
 * says a sentence with flite, and pocketsphinx finds the sentence's words in
 * what the phone recorded. The gateway then hangs up (the flow's end).
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startBaresipAgent,
  stopAll,
  transcribe,
  wordsFound,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CARRIER, carrierTrunk } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

const DID = '+14155550142';
const PROMPT = 'please leave your message after the tone';

let gw: TestGateway;
let phone: BaresipAgent;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'parley-trunk-prompt-'));
  gw = await startTestGateway({
    config: {
      flows: {
        welcome: [{ verb: 'say', text: PROMPT }, { verb: 'pause', length: 1 }, { verb: 'hangup' }],
      },
      trunks: { carrier: carrierTrunk({ dids: { [DID]: 'welcome' } }) },
    },
  });
  phone = await startBaresipAgent({ user: '4155550199', address: CARRIER, codecs: ['PCMU'] });
});
afterAll(async () => {
  await phone?.stop();
  await gw?.close();
  await stopAll();
});

it("answers the phone's call to the DID and the phone hears the flow's prompt", async () => {
  const since = phone.mark();
  await phone.dial(`sip:${DID}@${gw.udp}`);
  await phone.waitForEvent('CALL_ESTABLISHED', undefined, 15_000, { since });
  // The flow's hangup: the gateway sends the BYE.
  await phone.waitForEvent('CALL_CLOSED', undefined, 30_000, { since });

  const heard = join(work, 'phone-heard.wav');
  await copyFile(phone.lastRecording().received!, heard);
  const words = await transcribe(heard, { narrowband: true });
  // At least 5 of its 7 words, in order (a narrowband word may be misheard).
  expect(wordsFound(PROMPT, words), words).toBeGreaterThanOrEqual(5);

  await gw.callsEnded();
  const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0];
  expect(record).toMatchObject({
    channel: 'phone',
    called: DID,
    callerNumber: '+14155550199',
    flow: 'welcome',
    outcome: 'answered',
    endedBy: 'gateway',
  });
});
