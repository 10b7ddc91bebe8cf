/**
 * The click warmed (issue 15 item 4) in Debian's Chromium: the pointer resting
 * on the button fetches a call token and opens the gateway's WebSocket before
 * the click (`widget/src/client/warm-connection.ts`); the click's call goes
 * over that WebSocket, with audio both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import {
  clickCall,
  expectAgentHeardFakeMicrophone,
  inboundAudio,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  world = await startWidgetWorld({ agents: [{ id: 'agent1' }] });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs: ['PCMU', 'PCMA'],
  });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

/** Every WebSocket the page makes, kept (a script run before the page's own). */
const SOCKETS = `
  window.__sockets = [];
  const OriginalWs = window.WebSocket;
  window.WebSocket = class extends OriginalWs {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
`;
const sockets = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as { __sockets: WebSocket[] }).__sockets.map((s) => s.readyState),
  );

describe('a warmed click', () => {
  it('opens the WebSocket while the pointer rests on the button, and the call goes over it: audio both ways', async () => {
    const { page } = await world.newPage();
    await page.addInitScript(SOCKETS);
    await page.goto(`${world.siteOrigin}/`);
    const mark = agent.sipMessages().length;
    await page.locator('parley-call').getByRole('button', { name: /call/i }).first().hover();
    // Open (readyState 1) before any click: no call yet, nothing sent to the agent.
    await expect.poll(() => sockets(page), { timeout: 10_000 }).toEqual([1]);
    expect(await states(page)).toEqual([]);
    expect(
      agent
        .sipMessages()
        .slice(mark)
        .filter((m) => m.method === 'INVITE'),
    ).toEqual([]);

    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    expect(await sockets(page)).toEqual([1]); // the same one, no second WebSocket
    await agent.waitForRequest('INVITE', undefined, 5000, { since: mark });
    await expect
      .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.001);
    // A second of the agent's audio at the page: the call has been up long
    // enough for the page's tone to fill the agent's recording too.
    await expect
      .poll(async () => (await inboundAudio(page)).packets, { timeout: 10_000 })
      .toBeGreaterThan(50);

    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ended');
    await expectAgentHeardFakeMicrophone(agent);
  });
});
