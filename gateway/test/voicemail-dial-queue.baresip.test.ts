/**
 * A DID's flow that `dial`s a queue with voicemail (not `enqueue`), whose
 * agent (a baresip phone, signed in) does not answer: the call falls to the
 * queue's box, as an `enqueue` does (docs/flows.md#dial). The caller is our
 * SIP client on the carrier's address (a phone on the trunk; RTP from a flite
 * sentence, paced as a phone sends). pocketsphinx checks the greeting the
 * caller heard and the words recorded; the queue's desk sees the message.
 * A flow with verbs after its `dial` handles the no-answer itself: no box.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '@parley/shared/protocol';
import { stopAll, wordsFound, type BaresipAgent } from '@parley/testkit';
import { CARRIER, carrierTrunk } from './carrier.js';
import { deskSocket } from './desk-socket.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { VoicemailCaller } from './voicemail-caller.js';
import {
  heardWords,
  leaveSentence,
  sentenceKept,
  voicemailFrames,
  voicemailStarted,
} from './voicemail-checks.js';
import { VOICEMAIL_SENTENCE as SENTENCE, silentAgent } from './voicemail-setup.js';

const DID = '+14155550160';
const DID_HANDLED = '+14155550161';
const GREETING = 'Nobody is free right now. Please leave a message.';

let gw: TestGateway;
let agent: BaresipAgent;
let speech: Buffer;

beforeAll(async () => {
  const recordingsDir = await mkdtemp(join(tmpdir(), 'parley-vm-dial-queue-'));
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }],
    ringTimeoutSeconds: 2,
    maxAttempts: 1,
    queueExtra: {
      voicemail: { silenceSeconds: 2, maxSeconds: 30, greeting: { say: GREETING } },
    },
    config: {
      storage: { path: ':memory:', recordingsDir },
      speech: { endTimeoutMs: 60_000 },
      flows: {
        'to-sales': [{ verb: 'dial', target: { type: 'queue', queue: 'sales' }, timeout: 2 }],
        'to-sales-handled': [
          { verb: 'dial', target: { type: 'queue', queue: 'sales' }, timeout: 2 },
          { verb: 'hangup', reason: 'completed' },
        ],
      },
      trunks: {
        carrier: carrierTrunk({ dids: { [DID]: 'to-sales', [DID_HANDLED]: 'to-sales-handled' } }),
      },
    },
  });
  agent = await silentAgent('agent1', gw.udp);
  speech = await VoicemailCaller.speech(SENTENCE);
});
afterAll(async () => {
  await agent?.stop();
  await gw?.close();
  await stopAll();
});

const verbResults = async (callId: string) =>
  (await gw.gateway.telephony.events.list(callId)).filter(
    (e): e is Extract<FlowEvent, { type: 'verb.result' }> => e.type === 'verb.result',
  );

describe('a dial of a queue with voicemail', () => {
  it("falls to the queue's box when no agent answers", async () => {
    const desk = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
    const caller = await VoicemailCaller.open(CARRIER);
    try {
      const since = agent.mark();
      const started = voicemailStarted(gw, caller);
      await caller.call(gw.udp, undefined, 30_000, DID);
      const { id, heardFrames } = await started;
      // The queue's agent rang first (the flow's dial), and did not answer.
      await agent.waitForEvent('CALL_INCOMING', undefined, 10_000, { since });
      await leaveSentence(gw, caller, speech);
      const greeting = await heardWords(caller, heardFrames);
      expect(wordsFound('nobody is free right now', greeting), greeting).toBeGreaterThanOrEqual(3);
      await desk.frame((f) => f['type'] === 'voicemail-ended');

      const { body } = await gw.api<{
        callId: string;
        agent: string | null;
        queue: string;
        cause: string;
        status: string;
      }>(`/v1/voicemails/${id}`);
      expect(body).toMatchObject({
        agent: null,
        queue: 'sales',
        cause: 'no-answer',
        status: 'left',
      });
      const types = voicemailFrames(desk, id).map((f) => f['type']);
      expect(types).toContain('voicemail-started');
      expect(types).toContain('voicemail-ended');
      // The flow's events: the dial found no agent, then the queue's box took the message.
      const results = await verbResults(body.callId);
      expect(results.find((e) => e.verb === 'dial')?.result).toMatchObject({
        status: expect.stringMatching(/^(no-answer|busy|failed)$/) as unknown as string,
      });
      expect(results.find((e) => e.verb === 'voicemail')?.result).toMatchObject({
        status: 'left',
        voicemailId: id,
      });
      await sentenceKept(gw, id);
    } finally {
      caller.close();
      desk.ws.close();
    }
  }, 120_000);

  it('leaves the no-answer to a flow that has verbs after its dial', async () => {
    const before = (await gw.api<{ voicemails: unknown[] }>('/v1/voicemails')).body.voicemails;
    const caller = await VoicemailCaller.open(CARRIER);
    try {
      const since = agent.mark();
      // The next call the gateway admits, and its end.
      const ended = new Promise<string>((resolve) =>
        gw.gateway.calls.onCall((call) => call.once('ended', () => resolve(call.id))),
      );
      // call() waits for a 200 that never comes: the flow hangs up before any answer.
      void caller.call(gw.udp, undefined, 30_000, DID_HANDLED).catch(() => undefined);
      await agent.waitForEvent('CALL_INCOMING', undefined, 10_000, { since });
      // `hangup` `completed` before the answer: 603 Decline, not the queue's box (a 200).
      const refusal = (await caller.sip.waitFor(
        (m) => m.type === 'response' && m.callId === caller.callId && m.status >= 300,
        20_000,
      )) as { status: number };
      expect(refusal.status).toBe(603);
      const callId = await ended;
      const results = await verbResults(callId);
      expect(results.map((e) => e.verb)).toEqual(['dial', 'hangup']);
      expect(results.find((e) => e.verb === 'voicemail')).toBeUndefined();
      const after = (await gw.api<{ voicemails: unknown[] }>('/v1/voicemails')).body.voicemails;
      expect(after).toHaveLength(before.length);
    } finally {
      caller.close();
    }
  }, 60_000);
});
