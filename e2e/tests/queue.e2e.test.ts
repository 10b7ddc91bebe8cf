/**
 * A browser visitor waits in the queue (issue 10 item 7): the only agent is
 * busy, so the visitor's call from the real widget in Chromium is answered
 * by the gateway and waits: the page hears the queue's music (its tone's
 * pitch measured in the page with Web Audio), the widget shows the place in
 * the queue it got over the data channel, the agent's phone is not rung;
 * when the agent frees up, the baresip phone rings and the visitor is
 * bridged to it (the agent hears the page's microphone).
 */
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredAgent } from '@parley/gateway/test-harness';
import { stopAll, type BaresipAgent } from '@parley/testkit';
import {
  clickCall,
  expectAgentHeardFakeMicrophone,
  inboundAudio,
  remotePitch,
  startWidgetWorld,
  states,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';

const MUSIC_HZ = 520;

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    queueExtra: { waiting: { announceEverySeconds: 0, toneHz: MUSIC_HZ } },
  });
  agent = await registeredAgent(world.gw);
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

describe('a browser visitor in the queue', () => {
  it('hears the music, sees its place, and is bridged when the agent frees up', async () => {
    const endOtherCall = world.gw.gateway.agents.callStarted('agent1');
    const invitesBefore = agent.receivedRequests('INVITE').length;
    const { page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    await clickCall(page);

    // The place in the queue, from the gateway over the data channel.
    await expect
      .poll(() => statusText(page), { timeout: 20_000 })
      .toMatch(/number 1 in the queue/i);
    // The queue's music: the built-in tone at its pitch (an FFT bin is about 6 Hz wide).
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(MUSIC_HZ - 20);
    const pitch = await remotePitch(page);
    expect(pitch).toBeGreaterThan(MUSIC_HZ - 20);
    expect(pitch).toBeLessThan(MUSIC_HZ + 20);
    // Nobody was rung while the agent was busy.
    expect(agent.receivedRequests('INVITE')).toHaveLength(invitesBefore);

    const since = agent.mark();
    endOtherCall(0);
    await agent.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since });
    await expect.poll(() => statusText(page), { timeout: 10_000 }).not.toMatch(/queue/i);
    // The agent's voice reaches the page past the music...
    const before = (await inboundAudio(page)).energy;
    await expect
      .poll(async () => (await inboundAudio(page)).energy - before, { timeout: 10_000 })
      .toBeGreaterThan(0.001);
    // A second of what the agent's phone received is on disk (baresip writes as it goes).
    await expect
      .poll(
        () => {
          const file = agent.lastRecording().received;
          return file && existsSync(file) ? statSync(file).size : 0;
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(16_000);
    await agent.hangup();
    await agent.waitForEvent('CALL_CLOSED', undefined, 10_000, { since });
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('ended');
    // ...and the page's microphone reached the agent: the visitor was bridged.
    await expectAgentHeardFakeMicrophone(agent);

    const { body } = await world.gw.api<{
      calls: { id: string; agentId: string | null; outcome: string }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({ agentId: 'agent1', outcome: 'answered' });
  });
});
