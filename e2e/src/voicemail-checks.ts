/**
 * Checks on the voicemails a browser visitor leaves, shared by the voicemail
 * e2e tests: the stored transcript (the recogniser's finals, appended as
 * they come) grows to hold the words of the sentence the fake microphone
 * speaks. The sentence loops; some utterances come through Chromium's
 * capture better than others, so the poll is long.
 */
import { expect } from 'vitest';
import type { VoicemailView } from '@parley/shared/protocol';
import type { TestGateway } from '@parley/gateway/test-harness';
import { wordsFound } from '@parley/testkit';

/** The newest voicemail's stored transcript so far ('' before its first final). */
export async function newestTranscript(gw: TestGateway): Promise<string> {
  const { body } = await gw.api<{ voicemails: VoicemailView[] }>('/v1/voicemails');
  return body.voicemails[0]?.transcript ?? '';
}

/** Waits (up to 90 s) until the newest voicemail's transcript holds `min` of `sentence`'s words. */
export async function expectTranscriptWords(
  gw: TestGateway,
  sentence: string,
  min = 3,
): Promise<void> {
  await expect
    .poll(async () => wordsFound(sentence, await newestTranscript(gw)), {
      timeout: 90_000,
      interval: 500,
    })
    .toBeGreaterThanOrEqual(min);
}
