/**
 * The setup the voicemail tests share (`voicemail.baresip.test.ts`, and in
 * Chromium `voicemail-desk.e2e.test.ts`, `voicemail-widget.e2e.test.ts`): a
 * `sales` queue whose only agent, a baresip phone that answers only when the
 * test says so, rings out (2 s, one attempt) to voicemail.
 */
import { startBaresipAgent, type BaresipAgent } from '@parley/testkit';
import type { TestGatewayOptions } from './harness.js';

// What pocketsphinx recognises over PCMU (media-apps.baresip.test.ts measures the same sentence).
export const VOICEMAIL_SENTENCE = 'please leave your message after the tone';

/** The gateway's options: the queue's agent `agent`, its voicemail, its recordings in `recordingsDir`. */
export function voicemailQueue(options: {
  agent: string;
  recordingsDir: string;
  /** Silence that ends the message (0: only the caller or a take ends it). */
  silenceSeconds: number;
  maxSeconds: number;
}): TestGatewayOptions {
  return {
    config: {
      storage: { path: ':memory:', recordingsDir: options.recordingsDir },
      // The recogniser's last result comes late on a loaded machine: the default 10 s
      // would end the transcript with an error (seen once in about seven runs).
      speech: { endTimeoutMs: 60_000 },
    },
    agents: [{ id: options.agent }],
    ringTimeoutSeconds: 2,
    maxAttempts: 1,
    queueExtra: {
      voicemail: {
        greeting: { say: 'Please leave a message.' },
        silenceSeconds: options.silenceSeconds,
        maxSeconds: options.maxSeconds,
      },
    },
  };
}

/** The queue's agent, signed in over UDP; it answers only when the test tells it to. */
export async function silentAgent(user: string, registrar: string): Promise<BaresipAgent> {
  const agent = await startBaresipAgent({
    user,
    password: 'secret',
    registrar,
    transport: 'udp',
    answerMode: 'manual',
  });
  await agent.registered();
  return agent;
}
