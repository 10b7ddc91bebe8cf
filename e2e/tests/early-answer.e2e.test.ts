/**
 * Audio at the agent's answer (issue 15 item 3) in Debian's Chromium with the
 * real widget: with `media.earlyAnswer`, the gateway answers the browser in a
 * 180 with SDP while a baresip agent rings, so the browser's ICE and DTLS are
 * done before the agent answers; the agent is offered the chosen codec only,
 * and once it answers the page hears the agent's 800 Hz tone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import {
  clickCall,
  expectAgentHeardFakeMicrophone,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    ringTimeoutSeconds: 30,
    mediaExtra: { earlyAnswer: 'auto' },
  });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    // One clock rate per baresip agent (its tone file is not resampled).
    codecs: ['PCMU'],
    answerMode: 'manual',
    toneHz: 800,
  });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

/** The newest peer connection's state, as the page sees it. */
const peerState = (page: Page) =>
  page.evaluate(
    () => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1)?.connectionState,
  );

/** The dominant frequency of what the page receives (the remote track through an AnalyserNode). */
const remotePeakHz = (page: Page) =>
  page.evaluate(async () => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1)!;
    const track = pc.getReceivers().find((r) => r.track.kind === 'audio')!.track;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 8192;
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    // Chromium plays a remote WebRTC track into Web Audio only while an element plays it too.
    const element = new Audio();
    element.srcObject = new MediaStream([track]);
    element.muted = true;
    await element.play().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 800));
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 1;
    for (let i = 2; i < bins.length; i++) if (bins[i]! > bins[best]!) best = i;
    await context.close();
    return { hz: (best * context.sampleRate) / analyser.fftSize, db: bins[best]! };
  });

describe('early answer', () => {
  it('sets up ICE and DTLS while the agent rings, offers it one codec, and the page hears the agent at the answer', async () => {
    const { context, page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    const sipMark = agent.sipMessages().length;
    const events = agent.mark();
    await clickCall(page);
    await agent.waitForEvent('CALL_INCOMING', undefined, 15_000, { since: events });
    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since: sipMark });
    // auto: the agent is a SIP phone, so PCMU, and only PCMU (no transcoding, no re-INVITE).
    expect(invite.body).toMatch(/a=rtpmap:0 PCMU\/8000/);
    expect(invite.body).not.toMatch(/opus/i);

    // Still ringing, and the browser's media is already up (ICE and DTLS done).
    await expect.poll(() => peerState(page), { timeout: 15_000 }).toBe('connected');
    expect(await states(page)).toContain('ringing');
    expect(await states(page)).not.toContain('in-call');

    await agent.accept();
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('in-call');
    await expect
      .poll(async () => Math.abs((await remotePeakHz(page)).hz - 800), { timeout: 10_000 })
      .toBeLessThan(15);
    await page.waitForTimeout(1000);
    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await agent.waitForRequest('BYE', undefined, 5000, { since: sipMark });
    await expectAgentHeardFakeMicrophone(agent);
    const { body } = await world.gw.api<{ calls: { outcome: string }[] }>('/v1/calls?limit=1');
    expect(body.calls[0]?.outcome).toBe('answered');
    await context.close();
  });
});
