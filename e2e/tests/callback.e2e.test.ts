/**
 * "Call me back" in Chromium (S5, issue 13): a visitor on the company's page
 * opens `<parley-call callback>`'s form, types a phone number and asks to be
 * called now. The company's token endpoint (the real screening router)
 * issues a `callback:listing.<id>` token, the widget posts it to the gateway
 * and follows the progress stream. The gateway calls the customer through a
 * trunk: a baresip phone on the carrier side (127.0.0.2) is the customer's
 * phone, sending a 1 kHz tone; it answers and, once the page says "press 1",
 * presses 1 through its control socket (`sndcode`, RFC 4733); another baresip
 * phone is the advertiser (the listing's queue's agent, 800 Hz). Each phone's
 * recording holds the other's tone (audio both ways), the page shows every
 * phase up to "connected" and then the end, and the advertiser's ledger holds
 * exactly one callback fee. The queue agent's desk (another
 * Chromium page, its softphone off: the agent's phone is the baresip one)
 * follows the callback live in its "Live" card: connected to the agent, then
 * ended, with the listing's advertiser and the customer's number masked. A
 * number that is not one is refused in the page, with `parley-error`, and
 * nothing is asked.
 */
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompanySite } from '@parley/demo/company-site';
import {
  ADVERTISER_HZ,
  expectHeardTone,
  startCallbacksWorld,
  talkRecorded,
  type CallbacksWorld,
} from '@parley/gateway/callbacks-world';
import type { TestGateway } from '@parley/gateway/test-harness';
import { sippAvailable, stopAll, wavSeconds, type BaresipAgent } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import { PROBE, WIDGET_DIST, listenOnLoopback } from '../src/widget-fixture.js';

let world: CallbacksWorld;
let gw: TestGateway;
let advertiser: BaresipAgent;
let server: Server | undefined;
let browser: Browser;
let siteOrigin = '';
let advertiserId = '';
let listingId = '';
const CUSTOMER_HZ = 1000;

/** The callback events the page saw (the element's `parley-callback`). */
const CALLBACK_PROBE = `
  window.__callback = [];
  document.addEventListener('parley-callback', (e) => window.__callback.push(e.detail));
`;

const callbackFees = () => world.fees(advertiserId);

/** The agent's desk, signed in, its softphone off (the agent answers on its baresip phone). */
async function openDesk(): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(() => localStorage.setItem('parley-desk.softphone', 'off'));
  const desk = await context.newPage();
  await desk.goto(`${gw.gateway.httpUrl}/desk`);
  await desk.getByLabel('Username').fill('agent1');
  await desk.getByLabel('Password').fill('secret');
  await desk.getByRole('button', { name: 'Sign in' }).click();
  await desk.locator('parley-agent-desk [part="recent"]').waitFor();
  return desk;
}

async function openForm(): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(PROBE);
  await context.addInitScript(CALLBACK_PROBE);
  const page = await context.newPage();
  await page.goto(`${siteOrigin}/plumbers.html`);
  await page.locator('parley-callback').getByRole('button', { name: 'Call me back' }).click();
  return page;
}

beforeAll(async () => {
  world = await startCallbacksWorld({
    prompt: { repeat: 1, keyTimeoutSeconds: 5 },
    ringTimeoutSeconds: 10,
    retries: { maxAttempts: 1 },
  });
  ({ gw, advertiser } = world);
  ({ advertiserId, listingId } = await world.newListing());

  const listening = await listenOnLoopback();
  ({ server, origin: siteOrigin } = listening);
  const site = createCompanySite({
    issuer: gw.issuer,
    gatewayUrl: gw.gateway.httpUrl,
    origin: siteOrigin,
    widgetDir: WIDGET_DIST,
    callbacks: { destinations: [`listing.${listingId}`], defaultCountry: 'US' },
  });
  site.get('/plumbers.html', (_req, res) => {
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bob the Plumber</title>
<script type="module" src="/widget/parley.js"></script></head>
<body><h1>Bob the Plumber</h1>
<parley-call token-url="/api/call-token" listing="${listingId}" callback></parley-call>
</body></html>`);
  });
  listening.serve(site);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await world?.close();
  await stopAll();
});

describe.skipIf(!sippAvailable())('"Call me back" in Chromium', () => {
  it('refuses a number that is not one in the page: parley-error, nothing asked', async () => {
    const page = await openForm();
    await page.locator('parley-callback input[type="tel"]').fill('12');
    await page.locator('parley-callback input[type="checkbox"]').check();
    await page.locator('parley-callback').getByRole('button', { name: 'Call me back' }).click();
    await page.locator('parley-callback #phone-error').waitFor();
    expect(await page.locator('parley-callback #phone-error').innerText()).toMatch(
      /not a valid phone number in US/,
    );
    expect(
      await page.locator('parley-callback input[type="tel"]').getAttribute('aria-invalid'),
    ).toBe('true');
    const errors = await page.evaluate(
      () => (window as unknown as { __errors: { code: string }[] }).__errors,
    );
    expect(errors.map((e) => e.code)).toEqual(['number_invalid']);
    const listed = await gw.api<{ callbacks: unknown[] }>('/v1/callbacks');
    expect(listed.body.callbacks).toEqual([]);
    await page.context().close();
  });

  it('calls the customer, who presses 1 and is bridged to the advertiser; one fee', async () => {
    const phone = await world.startPhone({ toneHz: CUSTOMER_HZ });
    const desk = await openDesk();
    const page = await openForm();
    await page.locator('parley-callback select').selectOption('US');
    await page.locator('parley-callback input[type="tel"]').fill('(415) 555-0123');
    await page.locator('parley-callback input[value="now"]').check();
    await page.locator('parley-callback input[type="checkbox"]').check();
    await page.locator('parley-callback').getByRole('button', { name: 'Call me back' }).click();
    const status = page.locator('parley-callback [part="status"]');
    // The customer's phone was answered and hears the prompt: it presses 1.
    await page.locator('parley-callback [part="status"][data-phase="prompting"]').waitFor();
    const sent = await phone.command('sndcode', '1');
    expect(sent.ok, JSON.stringify(sent)).toBe(true);
    await page.locator('parley-callback [part="status"][data-phase="connected"]').waitFor();
    expect(await status.innerText()).toMatch(/^Connected/);
    await talkRecorded(phone, advertiser, wavSeconds(phone.lastRecording().received ?? ''));
    // The desk follows it live: connected to the agent while they talk.
    const onDesk = (phase: string) =>
      desk.locator(`parley-agent-desk [part="live-callback"][data-phase="${phase}"]`);
    await onDesk('connected').waitFor();
    expect(await onDesk('connected').innerText()).toMatch(/Connected to agent1/);
    const closed = phone.waitForEvent('CALL_CLOSED', undefined, 20_000);
    await advertiser.hangup();
    await closed;
    await page.locator('parley-callback [part="status"][data-phase="ended"]').waitFor();
    expect(await status.innerText()).toMatch(/over/);
    await onDesk('ended').waitFor();
    const shown = await onDesk('ended').innerText();
    expect(shown).toMatch(/Callback for Bob the Plumber/);
    expect(shown).toMatch(/\+14••••••123/);
    expect(shown).toMatch(/Ended: completed/);
    expect(shown).not.toMatch(/4155550123/);
    await desk.context().close();

    const seen = await page.evaluate(
      () => (window as unknown as { __callback: { phase: string; id?: string }[] }).__callback,
    );
    const phases = seen.map((e) => e.phase);
    expect(phases[0]).toBe('sending');
    for (const phase of ['scheduled', 'calling', 'prompting', 'connecting', 'connected', 'ended'])
      expect(phases, phase).toContain(phase);
    const id = seen.find((e) => e.id)?.id ?? '';
    const { body: record } = await gw.api<{
      outcome: string;
      phone: string;
      page: string;
      destination: string;
      attempts: { key: string | null }[];
      chargedAt: string | null;
    }>(`/v1/callbacks/${id}`);
    expect(record).toMatchObject({
      outcome: 'completed',
      phone: '+14155550123',
      page: `${siteOrigin}/plumbers.html`,
      destination: `listing.${listingId}`,
    });
    expect(record.attempts[0]?.key).toBe('1');
    expect(record.chargedAt).not.toBeNull();
    const fees = await callbackFees();
    expect(fees).toHaveLength(1);
    expect(fees[0]?.postings.map((p) => p.amountCents).sort((x, y) => x - y)).toEqual([-300, 300]);
    // Audio both ways: each phone heard the other's tone.
    await expectHeardTone(phone, ADVERTISER_HZ);
    await expectHeardTone(advertiser, CUSTOMER_HZ);
    // The customer's phone saw the listing's number as caller ID.
    expect(phone.receivedRequests('INVITE')[0]?.header('from')).toMatch(/<sip:\+14155550199@/);
    await page.context().close();
  });
});
