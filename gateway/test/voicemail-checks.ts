/**
 * Checks the voicemail tests share (`voicemail-rules.baresip.test.ts`,
 * `voicemail-wait.baresip.test.ts`): the next message, what the caller heard
 * (pocketsphinx), the sentence left and kept (row and WAV).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { transcribe, wordsFound } from '@parley/testkit';
import type { DeskSocket } from './desk-socket.js';
import type { TestGateway } from './harness.js';
import type { VoicemailCaller } from './voicemail-caller.js';
import { VOICEMAIL_SENTENCE as SENTENCE } from './voicemail-setup.js';

/** Resolves with the id of the next voicemail that starts, and what the caller heard until then. */
export function voicemailStarted(
  gw: TestGateway,
  caller: VoicemailCaller,
): Promise<{ id: string; heardFrames: number }> {
  return new Promise((resolve) => {
    const off = gw.gateway.voicemails.live.onEvent((event) => {
      if (event.type === 'voicemail-started') {
        off();
        resolve({ id: event.voicemail.id, heardFrames: caller.heard.length });
      }
    });
  });
}

/** The words pocketsphinx finds in what the caller heard (20 ms frames `from` to `to`). */
export async function heardWords(caller: VoicemailCaller, to: number, from = 0): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-vm-heard-'));
  const path = join(dir, 'heard.ul');
  await writeFile(path, Buffer.concat(caller.heard.slice(from, to)));
  return transcribe(path, { narrowband: true });
}

/** The caller speaks `speech`, then is silent: the message ends on silence, the gateway hangs up. */
export async function leaveSentence(
  gw: TestGateway,
  caller: VoicemailCaller,
  speech: Buffer,
): Promise<void> {
  caller.say(speech);
  await caller.byeFromGateway(gw.udp, 40_000);
}

/**
 * The stored transcript and the WAV (pocketsphinx) hold the sentence. The
 * live recogniser hears the call as it comes; on a loaded machine it read
 * "please leave your message after the tone" as "bravely their method after
 * the town" (three test runs at once; green alone): the transcript must hold
 * some of the sentence, the recording, read from the file, most of it.
 */
export async function sentenceKept(gw: TestGateway, id: string): Promise<void> {
  const stored = await gw.api<{ transcript: string | null }>(`/v1/voicemails/${id}`);
  expect(stored.status).toBe(200);
  const transcript = stored.body.transcript ?? '';
  expect(wordsFound(SENTENCE, transcript), transcript).toBeGreaterThanOrEqual(2);
  const file = (await gw.gateway.voicemails.get(id))?.recordingPath ?? '';
  const words = await transcribe(file, { narrowband: true });
  expect(wordsFound(SENTENCE, words), words).toBeGreaterThanOrEqual(4);
}

/** The frames of voicemail `id` a desk got. */
export const voicemailFrames = (desk: DeskSocket, id: string) =>
  desk.frames.filter((f) => {
    const v = f['voicemail'] as { id?: string } | undefined;
    return v?.id === id || f['voicemailId'] === id;
  });
