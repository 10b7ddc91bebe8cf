/**
 * When voicemail answers, with real peers (docs/voicemail.md): a baresip
 * agent `agent1` is signed in and never answers; the caller is our SIP client
 * (RTP from a flite sentence, paced as a phone sends).
 *
 * - A phone on a trunk (from the carrier's address) calls a DID whose flow
 *   dials agent1 directly: agent1 does not answer, so agent1's own box
 *   answers with agent1's greeting; only agent1's desk sees the message live
 *   (agent2, of the same queue, does not); the record is agent1's.
 * - A visitor calls the `sales` queue outside its business hours (a schedule
 *   in Pacific/Auckland whose today is a closed date): no agent rings,
 *   voicemail answers at once with the closed greeting, and the queue's desks
 *   see the message.
 * pocketsphinx checks the greeting the caller heard and the words recorded.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const DID = '+14155550150';
const AGENT_GREETING = 'You have reached Alice. Please leave your message after the tone.';
const CLOSED_GREETING = 'We are closed today. Please call again tomorrow morning.';
const QUEUE_GREETING = 'Nobody is free right now.';
const ZONE = 'Pacific/Auckland';

/** A local date in `ZONE`, `days` from now. */
function localDate(days: number): string {
  const at = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(at);
}

let gw: TestGateway;
let agent: BaresipAgent;
let speech: Buffer;
let recordingsDir: string;

beforeAll(async () => {
  recordingsDir = await mkdtemp(join(tmpdir(), 'parley-vm-rules-'));
  const voicemail = { silenceSeconds: 2, maxSeconds: 30 };
  const allDay: [string, string][] = [['00:00', '24:00']];
  gw = await startTestGateway({
    agents: [
      { id: 'agent1', voicemail: { ...voicemail, greeting: { say: AGENT_GREETING } } },
      { id: 'agent2' },
    ],
    ringTimeoutSeconds: 2,
    maxAttempts: 1,
    queueExtra: {
      voicemail: {
        ...voicemail,
        greeting: { say: QUEUE_GREETING },
        closedGreeting: { say: CLOSED_GREETING },
      },
      // Open every day, but today and tomorrow (local dates in Auckland) are closed.
      businessHours: {
        timeZone: ZONE,
        weekly: {
          mon: allDay,
          tue: allDay,
          wed: allDay,
          thu: allDay,
          fri: allDay,
          sat: allDay,
          sun: allDay,
        },
        closed: [localDate(-1), localDate(0), localDate(1)],
      },
    },
    config: {
      storage: { path: ':memory:', recordingsDir },
      speech: { endTimeoutMs: 60_000 },
      flows: {
        'to-alice': [{ verb: 'dial', target: { type: 'agent', agent: 'agent1' }, timeout: 2 }],
      },
      trunks: { carrier: carrierTrunk({ dids: { [DID]: 'to-alice' } }) },
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

const nextVoicemail = (caller: VoicemailCaller) => voicemailStarted(gw, caller);
const leaveMessage = (caller: VoicemailCaller) => leaveSentence(gw, caller, speech);
const expectSentenceKept = (id: string) => sentenceKept(gw, id);

describe('when voicemail answers', () => {
  it("a direct call to an agent who does not answer goes to the agent's own box", async () => {
    const [desk1, desk2] = await Promise.all([
      deskSocket(gw.gateway.httpUrl, 'agent1', 'secret'),
      deskSocket(gw.gateway.httpUrl, 'agent2', 'secret'),
    ]);
    const caller = await VoicemailCaller.open(CARRIER);
    try {
      const since = agent.mark();
      const started = nextVoicemail(caller);
      await caller.call(gw.udp, undefined, 30_000, DID);
      const { id, heardFrames } = await started;
      // agent1's phone rang first (the flow's dial), and did not answer.
      await agent.waitForEvent('CALL_INCOMING', undefined, 10_000, { since });
      await leaveMessage(caller);
      const greeting = await heardWords(caller, heardFrames);
      expect(wordsFound('you have reached alice', greeting), greeting).toBeGreaterThanOrEqual(2);
      await desk1.frame((f) => f['type'] === 'voicemail-ended');

      const { body } = await gw.api<{
        agent: string | null;
        queue: string;
        cause: string;
        status: string;
      }>(`/v1/voicemails/${id}`);
      expect(body).toMatchObject({
        agent: 'agent1',
        queue: '',
        cause: 'no-answer',
        status: 'left',
      });
      const types = voicemailFrames(desk1, id).map((f) => f['type']);
      expect(types).toContain('voicemail-started');
      expect(types).toContain('voicemail-partial');
      expect(types).toContain('voicemail-ended');
      // agent2 serves the same queue but this is agent1's box.
      expect(voicemailFrames(desk2, id)).toEqual([]);
      const listed = await gw.api<{ voicemails: { id: string }[] }>('/v1/voicemails?agent=agent1');
      expect(listed.body.voicemails.map((v) => v.id)).toContain(id);
      await expectSentenceKept(id);
    } finally {
      caller.close();
      desk1.ws.close();
      desk2.ws.close();
    }
  }, 120_000);

  it('outside business hours no agent rings: voicemail answers with the closed greeting', async () => {
    const desk2 = await deskSocket(gw.gateway.httpUrl, 'agent2', 'secret');
    const caller = await VoicemailCaller.open();
    try {
      const since = agent.mark();
      const started = nextVoicemail(caller);
      await caller.call(gw.udp, await gw.token({ subject: 'web-sess-closed' }));
      const { id, heardFrames } = await started;
      await leaveMessage(caller);
      const greeting = await heardWords(caller, heardFrames);
      expect(
        wordsFound('we are closed today call again tomorrow', greeting),
        greeting,
      ).toBeGreaterThanOrEqual(2);
      await desk2.frame((f) => f['type'] === 'voicemail-ended');
      // No agent was rung.
      expect(agent.history.slice(since).map((e) => e.type)).not.toContain('CALL_INCOMING');
      const { body } = await gw.api<{ agent: string | null; queue: string; cause: string }>(
        `/v1/voicemails/${id}`,
      );
      expect(body).toMatchObject({ agent: null, queue: 'sales', cause: 'closed' });
      expect(voicemailFrames(desk2, id).map((f) => f['type'])).toContain('voicemail-started');
      await expectSentenceKept(id);
    } finally {
      caller.close();
      desk2.ws.close();
    }
  }, 120_000);
});
