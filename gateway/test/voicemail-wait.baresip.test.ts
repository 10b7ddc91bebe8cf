/**
 * Voicemail at a queue's longest wait, with real peers (docs/voicemail.md):
 * the `sales` queue has `waiting` (4 s at most) and `voicemail`; its only
 * agent, a baresip phone, is signed in and never answers. A visitor (our SIP
 * client, RTP from a flite sentence) rings it out, waits in the queue (hold
 * tone), and after the longest wait the queue's fallback runs its voicemail:
 * pocketsphinx finds the greeting's words in what the caller heard, the
 * message is stored with `cause: max-wait`, and the call's flow events say
 * the `enqueue` timed out and the `voicemail` verb left a message.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '@parley/shared/protocol';
import { stopAll, wordsFound, type BaresipAgent } from '@parley/testkit';
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

const GREETING = 'We are sorry for the wait. Please leave your message after the tone.';

let gw: TestGateway;
let agent: BaresipAgent;
let speech: Buffer;

beforeAll(async () => {
  const recordingsDir = await mkdtemp(join(tmpdir(), 'parley-vm-wait-'));
  gw = await startTestGateway({
    ringTimeoutSeconds: 2,
    maxAttempts: 1,
    queueExtra: {
      waiting: { maxWaitSeconds: 4, announceEverySeconds: 0 },
      voicemail: { greeting: { say: GREETING }, silenceSeconds: 2, maxSeconds: 30 },
    },
    config: {
      storage: { path: ':memory:', recordingsDir },
      speech: { endTimeoutMs: 60_000 },
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

describe('voicemail at the longest wait', () => {
  it('a caller who waited the queue longest wait leaves a message', async () => {
    const desk = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
    const caller = await VoicemailCaller.open();
    try {
      const started = voicemailStarted(gw, caller);
      // What the caller heard until the queue gave up: the hold tone (pocketsphinx hears no words in it).
      let waited = 0;
      gw.gateway.telephony.queues.once('left', (_queue, status) => {
        expect(status).toBe('timeout');
        waited = caller.heard.length;
      });
      await caller.call(gw.udp, await gw.token({ subject: 'web-sess-wait' }));
      const { id, heardFrames } = await started;
      await leaveSentence(gw, caller, speech);
      await desk.frame((f) => f['type'] === 'voicemail-ended');
      // What the caller heard after the wait, before the beep: the greeting.
      const greeting = await heardWords(caller, heardFrames, waited);
      expect(wordsFound(GREETING, greeting), greeting).toBeGreaterThanOrEqual(4);

      const { body } = await gw.api<{
        callId: string;
        cause: string;
        queue: string;
        agent: string | null;
        status: string;
      }>(`/v1/voicemails/${id}`);
      expect(body).toMatchObject({
        cause: 'max-wait',
        queue: 'sales',
        agent: null,
        status: 'left',
      });
      expect(voicemailFrames(desk, id).map((f) => f['type'])).toContain('voicemail-partial');
      const results = gw.gateway.telephony.events
        .list(body.callId)
        .filter((e): e is Extract<FlowEvent, { type: 'verb.result' }> => e.type === 'verb.result');
      const enqueue = results.find((e) => e.verb === 'enqueue')?.result as
        { status: string; waitSeconds: number } | undefined;
      expect(enqueue?.status).toBe('timeout');
      expect(enqueue?.waitSeconds).toBeGreaterThanOrEqual(4);
      const voicemail = results.find((e) => e.verb === 'voicemail')?.result;
      expect(voicemail).toMatchObject({ status: 'left', voicemailId: id });
      await sentenceKept(gw, id);
    } finally {
      caller.close();
      desk.ws.close();
    }
  }, 120_000);
});
