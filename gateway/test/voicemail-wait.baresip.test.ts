/**
 * Voicemail at a queue's longest wait, with real peers (docs/voicemail.md):
 * the `sales` queue has `waiting` (4 s at most) and `voicemail`; its only
 * agent, a baresip phone, is signed in and never answers. A visitor (our SIP
 * client, RTP from a flite sentence) rings it out, waits in the queue (hold
 * tone), and after the longest wait the queue's fallback runs its voicemail:
 * pocketsphinx finds the greeting's words in what the caller heard, the
 * message is stored with `cause: max-wait`, and the call's flow events say
 * the `enqueue` timed out and the `voicemail` verb left a message. The
 * tenant's webhook (an HTTP server of the test that fails its first request)
 * gets the events in order, signed, the first one again after the failure,
 * the final text with the sentence's words and the recording's URL.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '@parley/shared/protocol';
import { analyse, stopAll, until, wordsFound, type BaresipAgent } from '@parley/testkit';
import { deskSocket } from './desk-socket.js';
import { API_KEY, startTestGateway, type TestGateway } from './harness.js';
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

const SECRET = 'the-company-webhook-secret';

let gw: TestGateway;
let agent: BaresipAgent;
let speech: Buffer;
let hooks: Server;
/** What the company's webhook received: delivery id, signature, body. */
const received: { delivery: string; signature: string; body: string }[] = [];

beforeAll(async () => {
  const recordingsDir = await mkdtemp(join(tmpdir(), 'parley-vm-wait-'));
  let failFirst = true;
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const delivery = String(req.headers['x-parley-delivery']);
      received.push({ delivery, signature: String(req.headers['x-parley-signature']), body });
      res.statusCode = failFirst ? 500 : 204;
      failFirst = false;
      res.end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const address = hooks.address();
  const hookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/vm`;
  gw = await startTestGateway({
    tenantExtra: { voicemail: { webhook: { url: hookUrl, secret: SECRET } } },
    ringTimeoutSeconds: 2,
    maxAttempts: 1,
    queueExtra: {
      waiting: { maxWaitSeconds: 4, announceEverySeconds: 0 },
      voicemail: { greeting: { say: GREETING }, silenceSeconds: 2, maxSeconds: 30 },
    },
    config: {
      storage: { path: ':memory:', recordingsDir },
      speech: { endTimeoutMs: 60_000 },
      voicemail: { webhookMaxBackoffSeconds: 1 },
    },
  });
  agent = await silentAgent('agent1', gw.udp);
  speech = await VoicemailCaller.speech(SENTENCE);
});
afterAll(async () => {
  hooks?.close();
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
      const results = (await gw.gateway.telephony.events.list(body.callId)).filter(
        (e): e is Extract<FlowEvent, { type: 'verb.result' }> => e.type === 'verb.result',
      );
      const enqueue = results.find((e) => e.verb === 'enqueue')?.result as
        { status: string; waitSeconds: number } | undefined;
      expect(enqueue?.status).toBe('timeout');
      expect(enqueue?.waitSeconds).toBeGreaterThanOrEqual(4);
      const voicemail = results.find((e) => e.verb === 'voicemail')?.result;
      expect(voicemail).toMatchObject({ status: 'left', voicemailId: id });
      await sentenceKept(gw, id);

      // The company's webhook: every event, in order, signed; the first one again after its 500.
      const bodies = await until(
        () => {
          const b = received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
          return b.some((x) => x['type'] === 'voicemail-ended') && b;
        },
        'the ended event at the webhook',
        30_000,
      );
      expect(received[0]?.delivery).toBe(received[1]?.delivery);
      for (const r of received) {
        const [t, v1] = r.signature.split(',').map((part) => part.split('=')[1]);
        expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${r.body}`).digest('hex'));
      }
      const types = bodies.slice(1).map((b) => b['type']);
      expect(types[0]).toBe('voicemail-started');
      expect(types.at(-1)).toBe('voicemail-ended');
      expect(types.indexOf('voicemail-partial')).toBeLessThan(types.indexOf('voicemail-final'));
      const finals = bodies
        .filter((b) => b['type'] === 'voicemail-final')
        .map((b) => (b['utterance'] as { text: string }).text)
        .join(' ');
      expect(wordsFound(SENTENCE, finals), finals).toBeGreaterThanOrEqual(4);
      const ended = bodies.at(-1) as {
        recordingUrl: string;
        voicemail: { id: string; status: string };
      };
      expect(ended.voicemail).toMatchObject({ id, status: 'left' });
      expect(JSON.stringify(bodies)).not.toContain('privateClaims');
      const wav = await fetch(ended.recordingUrl, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(wav.status).toBe(200);
      const file = join(await mkdtemp(join(tmpdir(), 'parley-vm-hook-')), 'message.wav');
      await (
        await import('node:fs/promises')
      ).writeFile(file, Buffer.from(await wav.arrayBuffer()));
      expect((await analyse(file)).seconds).toBeGreaterThan(2);
    } finally {
      caller.close();
      desk.ws.close();
    }
  }, 120_000);
});
