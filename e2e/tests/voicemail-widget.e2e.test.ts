/**
 * A browser caller leaves a voicemail: Chromium's fake microphone plays a
 * flite sentence (`--use-file-for-fake-audio-capture`, looped); the call goes
 * from the widget on the company page to a queue whose only agent (a baresip
 * phone) does not answer. The widget says it is leaving a message; the
 * visitor also types a line, kept with the call; the agent's voicemail page
 * (a second browser context) shows words of the sentence while the visitor
 * speaks; after the visitor hangs up, the inbox and the stored record hold
 * the sentence's words and the recording.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoicemailView } from '@parley/shared/protocol';
import {
  analyse,
  runCommand,
  speak,
  stopAll,
  wordsFound,
  type BaresipAgent,
} from '@parley/testkit';
import {
  clickCall,
  startWidgetWorld,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';
import { expectTranscriptWords } from '../src/voicemail-checks.js';
import {
  VOICEMAIL_SENTENCE as SENTENCE,
  silentAgent,
  voicemailQueue,
} from '@parley/gateway/voicemail-setup';

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-vm-widget-'));
  // The sentence with a pause after it: Chromium loops the file.
  const spoken = await speak({ text: SENTENCE, path: join(dir, 'sentence.wav'), rate: 48000 });
  const microphone = join(dir, 'microphone.wav');
  await runCommand('sox', [spoken, microphone, 'pad', '0.5', '1.5']);
  // The visitor hangs up: the looped sentence never leaves silence long enough.
  world = await startWidgetWorld(
    voicemailQueue({
      agent: 'vmagent',
      recordingsDir: join(dir, 'recordings'),
      silenceSeconds: 0,
      maxSeconds: 180,
    }),
    { microphone },
  );
  agent = await silentAgent('vmagent', world.gw.udp);
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

describe('voicemail from the widget', () => {
  it('the widget says it records a message; the desk shows the words; the typed line is kept', async () => {
    // The agent's voicemail page (signed in without the desk's softphone).
    const { page: desk } = await world.newPage();
    await desk.goto(`${world.gw.gateway.httpUrl}/desk/voicemail`);
    const login = await desk.evaluate(async () => {
      const res = await fetch('/desk/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'vmagent', password: 'secret' }),
      });
      return res.status;
    });
    expect(login).toBe(200);
    await desk.reload();
    const board = desk.locator('parley-voicemail-desk [part="board"]');
    await expect
      .poll(() => board.innerText(), { timeout: 15_000 })
      .toContain('Nobody is leaving a message');

    // The visitor calls; nobody answers; voicemail records.
    const { page: visitor } = await world.newPage();
    await visitor.goto(`${world.siteOrigin}/`);
    await clickCall(visitor);
    await expect.poll(() => statusText(visitor), { timeout: 30_000 }).toContain('leave a message');

    // A typed line beside the spoken message.
    await visitor.evaluate(() =>
      (
        document.querySelector('parley-call') as unknown as { send(t: string): Promise<unknown> }
      ).send('Call me back at noon please'),
    );

    // The desk shows words of the sentence while the visitor is still on the line.
    const live = board.locator('[part="live"]');
    await expect.poll(() => live.count(), { timeout: 15_000 }).toBe(1);
    await expect
      .poll(
        async () => wordsFound(SENTENCE, await live.locator('[part="live-text"]').innerText()),
        {
          timeout: 90_000,
          interval: 200,
        },
      )
      .toBeGreaterThanOrEqual(2);

    // The stored transcript (finals, appended as they come) gets the sentence's words.
    await expectTranscriptWords(world.gw, SENTENCE);

    // The visitor hangs up: the message is left, the widget no longer says it records.
    await visitor.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    const message = board.locator('[part="message"]');
    await expect.poll(() => message.count(), { timeout: 60_000 }).toBe(1);
    expect(await message.innerText()).toContain('message left');
    // The typed line is shown with the message.
    expect(await message.locator('[part="typed"]').innerText()).toContain(
      'Call me back at noon please',
    );
    expect(await statusText(visitor)).not.toContain('leave a message');

    const { body } = await world.gw.api<{ voicemails: VoicemailView[] }>('/v1/voicemails');
    const stored = body.voicemails[0];
    expect(stored).toMatchObject({ status: 'left', endReason: 'hangup', hasRecording: true });
    expect(
      wordsFound(SENTENCE, stored?.transcript ?? ''),
      stored?.transcript ?? '',
    ).toBeGreaterThanOrEqual(3);
    const file = (await world.gw.gateway.voicemails.get(stored!.id))?.recordingPath ?? '';
    const measured = await analyse(file);
    expect(measured.rms).toBeGreaterThan(0.01);
    expect(measured.seconds).toBeGreaterThan(2);

    // The typed line is stored with the voicemail's call.
    const { body: call } = await world.gw.api<{
      messages: { from: string; message: { type: string; text?: string } }[];
    }>(`/v1/calls/${stored!.callId}`);
    expect(call.messages.map((m) => [m.from, m.message.text])).toContainEqual([
      'visitor',
      'Call me back at noon please',
    ]);
  }, 300_000); // its waits for live speech add up past the project's 90 s on a loaded machine
});
