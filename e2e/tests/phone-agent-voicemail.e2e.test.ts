/**
 * A browser visitor answered in an agent's early media keeps that codec for
 * what comes after (issue 10 / 11): the queue's only agent is a telephone
 * number whose carrier (sipp) plays an announcement in PCMA, then answers
 * 486. The gateway answered the browser in that 183 with PCMA (werift
 * answers an offer once), so when the queue's voicemail takes the call it
 * must record and play in PCMA too, not the G.711 it would pick for a caller
 * answered afresh (PCMU first): Chromium's fake microphone speaks a flite
 * sentence, and the voicemail's live transcript (pocketsphinx, fed from what
 * the gateway decoded) must find its words. Decoded as the wrong law, the
 * recording is noise. The message then goes on past the media inactivity
 * timeout, heard by voicemail alone: on mediasoup the browser's leg was taken
 * for silent once the agent's bridge was gone, and the call ended
 * `media_timeout` (the meter counted a leg's packets only through bridges).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoicemailView } from '@parley/shared/protocol';
import { carrierTrunk, phoneAgent } from '@parley/gateway/carrier';
import { VOICEMAIL_SENTENCE as SENTENCE } from '@parley/gateway/voicemail-setup';
import {
  PortAllocator,
  runCommand,
  speak,
  stopAll,
  wavSeconds,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { expectTranscriptWords } from '../src/voicemail-checks.js';
import { callFromSite, startWidgetWorld, states, type WidgetWorld } from '../src/widget-fixture.js';
import { carrierSipp } from '../src/carrier-sipp.js';

const CALLEE = '127.0.0.3';
const NUMBER = '+14155550142';

const ports = new PortAllocator();
let block: PortBlock;
let world: WidgetWorld;
let sipp: SippInstance | undefined;

beforeAll(async () => {
  block = await ports.allocate(1, { protocols: ['udp'] });
  const dir = await mkdtemp(join(tmpdir(), 'parley-phone-vm-'));
  // The sentence with a pause after it: Chromium loops the file.
  const spoken = await speak({ text: SENTENCE, path: join(dir, 'sentence.wav'), rate: 48000 });
  const microphone = join(dir, 'microphone.wav');
  await runCommand('sox', [spoken, microphone, 'pad', '0.5', '1.5']);
  world = await startWidgetWorld(
    {
      maxAttempts: 1,
      // The browser answered in the carrier's PCMA 183: early answer off (on, it is
      // answered in PCMU before the carrier is dialled, offered PCMU alone).
      mediaExtra: { earlyAnswer: 'off' },
      queueExtra: {
        voicemail: {
          greeting: { say: 'Please leave a message.' },
          silenceSeconds: 0,
          maxSeconds: 180,
        },
      },
      config: {
        storage: { path: ':memory:', recordingsDir: join(dir, 'recordings') },
        // The recogniser's last result comes late on a loaded machine.
        speech: { endTimeoutMs: 60_000 },
        trunks: {
          out: carrierTrunk({ host: CALLEE, port: block.base }),
        },
        agents: [phoneAgent('ada', NUMBER, 'out')],
      },
    },
    { microphone },
  );
});

afterAll(async () => {
  await sipp?.stop();
  await world?.close();
  block?.release();
  await stopAll();
});

describe('a browser visitor answered in a phone agent’s early media, then voicemail', () => {
  it(
    'leaves a message recorded in the codec of that early answer: its words are found',
    { timeout: 200_000 },
    async () => {
      sipp = await carrierSipp('uas-carrier-early-tone-pcma-busy', CALLEE, block.base);
      const page = await callFromSite(world);

      await expectTranscriptWords(world.gw, SENTENCE);
      // The message goes on past the media inactivity timeout (10 s in the tests) with the
      // browser heard by voicemail alone: its leg must not be taken for silent once the
      // agent's bridge is gone (mediasoup ended such calls \`media_timeout\`).
      const { body: listed } = await world.gw.api<{ voicemails: VoicemailView[] }>(
        '/v1/voicemails',
      );
      const recording =
        (await world.gw.gateway.voicemails.get(listed.voicemails[0]!.id))?.recordingPath ?? '';
      await expect.poll(() => wavSeconds(recording), { timeout: 60_000 }).toBeGreaterThan(14);
      expect(await states(page)).not.toContain('ended');

      await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
      await world.gw.callsEnded();
      // Left once the recogniser's last final is in (speech.endTimeoutMs allows it 60 s).
      const left = async () =>
        (await world.gw.api<{ voicemails: VoicemailView[] }>('/v1/voicemails')).body.voicemails[0];
      await expect.poll(async () => (await left())?.status, { timeout: 70_000 }).toBe('left');
      expect(await left()).toMatchObject({ status: 'left', endReason: 'hangup' });
      // The agent's carrier: one INVITE (its 183 in PCMA, then 486); the browser got PCMA.
      const log = (await sipp.stop()).messages;
      expect(log).toMatch(/^INVITE sip:\+14155550142@/m);
      sipp = undefined;
      const { body: calls } = await world.gw.api<{
        calls: { id: string; attempts: { agentId: string; status?: number }[] }[];
      }>('/v1/calls?limit=1');
      expect(calls.calls[0]!.attempts).toEqual([
        expect.objectContaining({ agentId: 'ada', status: 486 }),
      ]);
    },
  );
});
