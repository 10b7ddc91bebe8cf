/**
 * A browser visitor calls a queue that is closed at the gateway (issue 10
 * item 7; docs/flows.md, "Where flows run"): the company's screening lets the
 * call through, but the gateway's `queues.sales.businessHours` has no opening
 * hours at all and the queue names no `flows.closed`, no voicemail and no
 * tenant default. The closed chain ends in the built-in apology: the gateway
 * answers, says it (pocketsphinx finds its words in what the page heard) and
 * hangs up with `outside_business_hours`, which the widget reports as an
 * error event with that code and its message for a person. The agent's
 * baresip phone is registered and free the whole time, and gets no INVITE.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { FlowEvent } from '@parley/shared/protocol';
import { ERROR_CODES } from '@parley/shared/errors';
import { registeredAgent } from '@parley/gateway/test-harness';
import { runCommand, stopAll, transcribe, wordsFound, type BaresipAgent } from '@parley/testkit';
import {
  clickCall,
  errors,
  startWidgetWorld,
  states,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';

/** The built-in apology (gateway/src/flows/builtin.ts, `UNAVAILABLE_TEXT`). */
const APOLOGY = 'we are sorry no one can take your call right now please try again later';
/** A schedule with no opening hours: closed whenever the test runs. */
const NEVER_OPEN = { timeZone: 'UTC', weekly: {} };

/**
 * Keeps what the page hears: every remote audio track of every peer
 * connection, from its first packet, as 16-bit PCM at the page's rate (the
 * widget plays the track in its `<audio>`, which Chromium needs before Web
 * Audio gets a remote track's samples).
 */
const HEARING = `
  window.__heard = [];
  window.__heardRate = 0;
  const Base = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', (e) => {
        if (e.track.kind !== 'audio') return;
        const context = new AudioContext();
        window.__heardRate = context.sampleRate;
        const source = context.createMediaStreamSource(new MediaStream([e.track]));
        // The largest buffer (about 0.34 s at 48 kHz): a main thread busy that long on a loaded
        // machine still gets every buffer (a smaller one dropped some and the words with them).
        const tap = context.createScriptProcessor(16384, 1, 1);
        tap.onaudioprocess = (a) => {
          const input = a.inputBuffer.getChannelData(0);
          const pcm = new Int16Array(input.length);
          for (let i = 0; i < input.length; i += 1)
            pcm[i] = Math.max(-32768, Math.min(32767, Math.round(input[i] * 32767)));
          window.__heard.push(pcm);
        };
        source.connect(tap);
        tap.connect(context.destination);
        void context.resume();
        // Once the call is over the tap would go on with silence.
        const stop = () => void context.close().catch(() => undefined);
        e.track.addEventListener('ended', stop);
        document.addEventListener('parley-state', (s) => {
          if (s.detail.state === 'ended' || s.detail.state === 'error') stop();
        });
      });
    }
  };
`;

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    queueExtra: { businessHours: NEVER_OPEN },
  });
  agent = await registeredAgent(world.gw);
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

/** The words pocketsphinx finds in what the page heard, and how many seconds it heard. */
async function heardWords(page: Page): Promise<{ words: string; seconds: number }> {
  const { rate, samples } = await page.evaluate(() => {
    const w = window as unknown as { __heard: Int16Array[]; __heardRate: number };
    // As base64: a plain array of a few hundred thousand numbers takes seconds to pass.
    let binary = '';
    for (const chunk of w.__heard) {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let i = 0; i < bytes.length; i += 0x8000)
        binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return { rate: w.__heardRate, samples: btoa(binary) };
  });
  const dir = await mkdtemp(join(tmpdir(), 'parley-closed-heard-'));
  const raw = join(dir, 'heard.raw');
  const wav = join(dir, 'heard.wav');
  await writeFile(raw, Buffer.from(samples, 'base64'));
  const format = ['-t', 'raw', '-r', String(rate), '-e', 'signed', '-b', '16', '-c', '1'];
  await runCommand('sox', [...format, raw, wav]);
  // How much was kept goes in a failure's message: a short capture is the page's fault.
  const seconds = Buffer.from(samples, 'base64').length / 2 / rate;
  return { words: await transcribe(wav, { narrowband: true }), seconds };
}

describe('a browser visitor calling a closed queue', () => {
  it('hears the apology, gets an outside_business_hours error event, and no agent rings', async () => {
    const { context, page } = await world.newPage();
    await context.addInitScript(HEARING);
    const invitesBefore = agent.receivedRequests('INVITE').length;
    await page.goto(`${world.siteOrigin}/`);
    await clickCall(page);

    // The gateway answers to speak, then hangs up with the queue's reason.
    await expect.poll(() => states(page), { timeout: 30_000 }).toContain('error');
    expect(await states(page)).toContain('in-call');
    expect((await errors(page)).map((e) => e.code)).toEqual(['outside_business_hours']);
    expect(await statusText(page)).toContain(ERROR_CODES.outside_business_hours.human);

    const { words, seconds } = await heardWords(page);
    expect(
      wordsFound(APOLOGY, words),
      `"${words}" in ${seconds.toFixed(1)} s`,
    ).toBeGreaterThanOrEqual(5);

    // The free, registered agent was never rung.
    expect(agent.receivedRequests('INVITE')).toHaveLength(invitesBefore);

    await world.gw.callsEnded();
    const { body } = await world.gw.api<{
      calls: { id: string; queue: string; agentId: string | null; reason: string }[];
    }>('/v1/calls?limit=1');
    const call = body.calls[0]!;
    expect(call).toMatchObject({
      queue: 'sales',
      agentId: null,
      reason: 'outside_business_hours',
    });
    const events: FlowEvent[] = await world.gw.gateway.telephony.events.list(call.id);
    expect(
      events.map((e) => (e.type === 'verb.result' ? `${e.verb}:${e.result.status}` : e.type)),
    ).toEqual([
      'flow.start',
      'verb.start',
      'say:completed',
      'verb.start',
      'hangup:completed',
      'flow.end',
    ]);
    await context.close();
  });
});
