/**
 * The microphone permission read before the click (issue 15 item 4) in
 * Debian's Chromium: with the site's microphone blocked (the content setting,
 * set through CDP `Browser.setPermission` as a person choosing "Block" in the
 * site settings), the pointer resting on the button shows why a call cannot
 * start, before any click; the click fails at once with `microphone_denied`
 * and fetches no token, opens no WebSocket and sends no INVITE. Allowed again,
 * the blocked state clears without a reload. With the microphone granted, the
 * warmed call goes as before (`widget/src/client/microphone-permission.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ERROR_CODES } from '@parley/shared/errors';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import {
  PROBE,
  clickCall,
  errors,
  fakeMicrophone,
  hangUpAfterAudioBothWays,
  startWidgetWorld,
  states,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';

let world: WidgetWorld;
let agent: BaresipAgent;
/**
 * A browser whose prompts answer "Block", without the world's fake prompt UI
 * (which lets getUserMedia through whatever the site's setting): there a
 * blocked microphone is refused, as for a visitor.
 */
let denying: Browser;

beforeAll(async () => {
  world = await startWidgetWorld({ agents: [{ id: 'agent1' }] });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs: ['PCMU', 'PCMA'],
  });
  await agent.registered();
  denying = await launchChromium({ permissions: 'deny', fakeAudioCapture: await fakeMicrophone() });
});

afterAll(async () => {
  await denying?.close();
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
 * The site's microphone setting in `page`'s context, as the site-settings page
 * sets it. Chromium drops a DevTools permission override when its session
 * detaches: the session stays open with the context.
 */
async function siteSettings(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  return async (setting: 'granted' | 'denied' | 'prompt'): Promise<void> => {
    await cdp.send('Browser.setPermission', {
      permission: { name: 'microphone' },
      setting,
      origin: world.siteOrigin,
      ...(targetInfo.browserContextId ? { browserContextId: targetInfo.browserContextId } : {}),
    });
  };
}

/** What the page's own Permissions API says (the test's setting took). */
const pagePermission = (page: Page) =>
  page.evaluate(async () => (await navigator.permissions.query({ name: 'microphone' })).state);

const status = (page: Page) => page.locator('parley-call [part="status"]');
const shown = async (page: Page) =>
  !((await status(page).getAttribute('class')) ?? '').includes('visually-hidden');
const callButton = (page: Page) =>
  page.locator('parley-call').getByRole('button', { name: /call/i }).first();

describe('the microphone permission read before the click', () => {
  it('blocked: hovering says so before any click; the click fails at once, with no token, WebSocket or INVITE', async () => {
    const context = await denying.newContext();
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    await page.addInitScript(SOCKETS);
    const tokenRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/call-token')) tokenRequests.push(request.url());
    });
    await page.goto(`${world.siteOrigin}/`);
    const setMicrophone = await siteSettings(context, page);
    await setMicrophone('denied');
    expect(await pagePermission(page)).toBe('denied');
    const mark = agent.sipMessages().length;

    await callButton(page).hover();
    const human = ERROR_CODES.microphone_denied.human;
    await expect.poll(() => statusText(page), { timeout: 10_000 }).toBe(human);
    expect(await shown(page)).toBe(true);
    expect(await states(page)).toEqual([]); // no call yet: no parley-state, no parley-error

    // Allowed again in the site settings: the blocked state clears, no reload.
    await setMicrophone('prompt');
    await expect.poll(() => shown(page), { timeout: 10_000 }).toBe(false);
    await setMicrophone('denied');
    await expect.poll(() => shown(page), { timeout: 10_000 }).toBe(true);
    expect(await statusText(page)).toBe(human);

    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 10_000 }).toEqual(['permission', 'error']);
    expect((await errors(page)).map((e) => e.code)).toEqual(['microphone_denied']);
    expect((await errors(page))[0]?.human).toBe(human);
    expect(await statusText(page)).toBe(human);
    expect(await sockets(page)).toEqual([]);
    expect(tokenRequests).toEqual([]);
    expect(
      agent
        .sipMessages()
        .slice(mark)
        .filter((m) => m.method === 'INVITE'),
    ).toEqual([]);
    await context.close();
  });

  it('allowed after a first blocked hover, the next one warms the call; a button removed and put back reads the permission afresh', async () => {
    const context = await denying.newContext();
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    await page.addInitScript(SOCKETS);
    const tokenRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/call-token')) tokenRequests.push(request.url());
    });
    await page.goto(`${world.siteOrigin}/`);
    const setMicrophone = await siteSettings(context, page);
    await setMicrophone('denied');
    /** The pointer leaves the button (the page's corner, its header) and comes back. */
    const lookAgain = async () => {
      await page.mouse.move(0, 0);
      await callButton(page).hover();
    };

    await callButton(page).hover();
    await expect.poll(() => shown(page), { timeout: 10_000 }).toBe(true);
    expect(tokenRequests).toEqual([]);
    await setMicrophone('prompt');
    await expect.poll(() => shown(page), { timeout: 10_000 }).toBe(false);
    await lookAgain();
    await expect.poll(() => sockets(page), { timeout: 10_000 }).toEqual([1]);
    expect(tokenRequests).toHaveLength(1);

    // Blocked again (the WebSocket opened ahead is closed), then the button leaves
    // the page; allowed while it is out, it comes back and is not shown blocked.
    await setMicrophone('denied');
    await expect.poll(() => sockets(page), { timeout: 10_000 }).toEqual([3]);
    await page.evaluate(() => {
      const button = document.querySelector('parley-call')!;
      (window as unknown as { __button: Element }).__button = button;
      button.remove();
    });
    await setMicrophone('prompt');
    await page.evaluate(() =>
      document.body.append((window as unknown as { __button: Element }).__button),
    );
    expect(await shown(page)).toBe(false);
    await lookAgain();
    await expect.poll(() => sockets(page), { timeout: 10_000 }).toEqual([3, 1]);
    expect(tokenRequests).toHaveLength(2);
    expect(await shown(page)).toBe(false);
    expect(await states(page)).toEqual([]);
    await context.close();
  });

  it('granted: nothing shown on hover, the WebSocket opens ahead and the call goes as before, audio both ways', async () => {
    const { context, page } = await world.newPage();
    await context.grantPermissions(['microphone'], { origin: world.siteOrigin });
    await page.addInitScript(SOCKETS);
    await page.goto(`${world.siteOrigin}/`);
    expect(await pagePermission(page)).toBe('granted');
    const mark = agent.sipMessages().length;

    await callButton(page).hover();
    await expect.poll(() => sockets(page), { timeout: 10_000 }).toEqual([1]);
    expect(await shown(page)).toBe(false);
    expect(await states(page)).toEqual([]);

    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    expect(await sockets(page)).toEqual([1]); // the one opened on hover
    await agent.waitForRequest('INVITE', undefined, 5000, { since: mark });
    await hangUpAfterAudioBothWays(page, agent);
    await context.close();
  });
});
