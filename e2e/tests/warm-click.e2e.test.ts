/**
 * The click warmed (issue 15 item 4) in Debian's Chromium: the pointer resting
 * on the button fetches a call token and opens the gateway's WebSocket before
 * the click (`widget/src/client/warm-connection.ts`); the click's call goes
 * over that WebSocket, with audio both ways. Before that, the button coming
 * into view fetches the call stack's chunk, and nothing else (no token, no
 * WebSocket); `warm="hover"` leaves even that to the hover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import {
  clickCall,
  errors,
  hangUpAfterAudioBothWays,
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

/**
 * Runs before the page's scripts: as the parser adds the button, paragraphs go
 * before it (below the fold, before the first frame is drawn), and `warm` on it.
 */
const belowTheFold = (warm?: string) => `
  new MutationObserver((_, observer) => {
    const button = document.querySelector('parley-call');
    if (!button) return;
    observer.disconnect();
    for (let i = 0; i < 300; i++)
      button.before(Object.assign(document.createElement('p'), { textContent: 'Our story, at length.' }));
    ${warm === undefined ? '' : `button.setAttribute('warm', ${JSON.stringify(warm)});`}
  }).observe(document, { childList: true, subtree: true });
`;

/** The demo page with the button below the fold; the chunk and token requests it makes. */
async function tallPage(
  page: Page,
  warm?: string,
): Promise<{ chunks: string[]; tokens: string[] }> {
  const seen = { chunks: [] as string[], tokens: [] as string[] };
  page.on('request', (request) => {
    const url = request.url();
    if (/\/widget\/parley-client-[^/]+\.js$/.test(url)) seen.chunks.push(url);
    if (url.endsWith('/api/call-token')) seen.tokens.push(url);
  });
  await page.addInitScript(SOCKETS);
  await page.addInitScript(belowTheFold(warm));
  await page.goto(`${world.siteOrigin}/`);
  await settled(page);
  // Below the fold, and the observer has said so (settled).
  expect(
    await page.locator('parley-call').evaluate((el) => el.getBoundingClientRect().top),
  ).toBeGreaterThan(await page.evaluate(() => innerHeight));
  return seen;
}

/** The element defined and a few frames rendered: the intersection observer has reported. */
const settled = (page: Page) =>
  page.evaluate(async () => {
    await customElements.whenDefined('parley-call');
    for (let i = 0; i < 3; i++) await new Promise((resolve) => requestAnimationFrame(resolve));
  });

/** Scrolled to the middle of the viewport, away from the pointer (at the top left): no hover. */
const scrollToButton = (page: Page) =>
  page.locator('parley-call').evaluate((el) => el.scrollIntoView({ block: 'center' }));

/** Scrolled into view, nothing is fetched; the hover then fetches the chunk and opens the WebSocket, no call. */
async function nothingInViewHoverWarms(page: Page, seen: { chunks: string[] }): Promise<void> {
  await scrollToButton(page);
  await settled(page);
  expect(seen.chunks).toEqual([]);
  await page.locator('parley-call').getByRole('button', { name: /call/i }).first().hover();
  await expect.poll(() => sockets(page), { timeout: 10_000 }).toEqual([1]);
  expect(seen.chunks).toHaveLength(1);
  expect(await states(page)).toEqual([]);
}

describe('the button coming into view', () => {
  it('fetches the call stack chunk then, not before, and nothing else; a click after it has audio both ways', async () => {
    const { page } = await world.newPage();
    const seen = await tallPage(page);
    expect(seen.chunks).toEqual([]);

    await scrollToButton(page);
    await expect.poll(() => seen.chunks.length, { timeout: 10_000 }).toBe(1);
    // The chunk run (the same module, so resolved once it was evaluated) and the
    // page settled again: no token asked for, no WebSocket opened, no call.
    const chunk = seen.chunks[0] ?? '';
    await page.evaluate(`import(${JSON.stringify(chunk)}).then(() => true)`); // a string: vitest rewrites import()
    await settled(page);
    expect(seen.tokens).toEqual([]);
    expect(await sockets(page)).toEqual([]);
    expect(await states(page)).toEqual([]);

    const mark = agent.sipMessages().length;
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    expect(await errors(page)).toEqual([]);
    expect(seen.chunks).toEqual([chunk]); // fetched once, on view
    await agent.waitForRequest('INVITE', undefined, 5000, { since: mark });
    await hangUpAfterAudioBothWays(page, agent);
  });

  it('in a browser without IntersectionObserver, the button still works: the hover warms the call', async () => {
    const { page } = await world.newPage();
    await page.addInitScript(() => {
      delete (window as { IntersectionObserver?: unknown }).IntersectionObserver;
    });
    const seen = await tallPage(page);
    await nothingInViewHoverWarms(page, seen);
  });

  it('with warm="hover", fetches nothing in view: the hover fetches the chunk and warms the call', async () => {
    const { page } = await world.newPage();
    const seen = await tallPage(page, 'hover');
    await nothingInViewHoverWarms(page, seen);
    expect(seen.tokens).toHaveLength(1);
  });
});

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
    await hangUpAfterAudioBothWays(page, agent);
  });
});
