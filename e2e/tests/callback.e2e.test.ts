/**
 * "Call me back" in Chromium (S5, issue 13): a visitor on the company's page
 * opens `<parley-call callback>`'s form, types a phone number and asks to be
 * called now. The company's token endpoint (the real screening router)
 * issues a `callback:listing.<id>` token, the widget posts it to the gateway
 * and follows the progress stream. The gateway calls the customer through a
 * trunk: sipp on the carrier side (127.0.0.2) is the customer's phone, which
 * answers, presses 1 (RFC 4733) and echoes what it hears; a baresip phone is
 * the advertiser (the listing's queue's agent). The advertiser hears its own
 * 800 Hz tone come back through the customer (audio both ways), the page
 * shows every phase up to "connected" and then the end, and the advertiser's
 * ledger holds exactly one callback fee. A number that is not one is refused
 * in the page, with `parley-error`, and nothing is asked.
 */
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompanySite } from '@parley/demo/company-site';
import { startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import {
  PortAllocator,
  analyse,
  bundledScenario,
  freePort,
  sippAvailable,
  startBaresipAgent,
  startSipp,
  stopAll,
  wavSeconds,
  type BaresipAgent,
  type PortBlock,
  type SippInstance,
  until,
} from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import { PROBE, WIDGET_DIST } from '../src/widget-fixture.js';

const CARRIER = '127.0.0.2';
const ports = new PortAllocator();
const held: PortBlock[] = [];
let gw: TestGateway;
let advertiser: BaresipAgent;
let customer: SippInstance | undefined;
let server: Server | undefined;
let browser: Browser;
let siteOrigin = '';
let advertiserId = '';
let listingId = '';

/** The callback events the page saw (the element's `parley-callback`). */
const CALLBACK_PROBE = `
  window.__callback = [];
  document.addEventListener('parley-callback', (e) => window.__callback.push(e.detail));
`;

async function callbackFees(): Promise<{ postings: { amountCents: number }[] }[]> {
  const { body } = await gw.api<{
    transactions: { kind: string; postings: { amountCents: number }[] }[];
  }>(`/v1/advertisers/${advertiserId}/ledger`);
  return body.transactions.filter((t) => t.kind === 'callback_fee');
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
  const block = await ports.allocate(1, { protocols: ['udp'] });
  held.push(block);
  advertiser = await startBaresipAgent({ user: 'advertiser', toneHz: 800 });
  gw = await startTestGateway({
    agents: [{ id: 'agent1', contact: advertiser.uri }],
    config: {
      trunks: {
        carrier: {
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'US',
          peers: [{ host: CARRIER, port: block.base }],
        },
      },
      marketplace: { reserveCents: 100, tenants: { acme: {} } },
      callbacks: {
        trunk: 'carrier',
        listings: { enabled: true, feeCents: 'bid', callerNumber: '+14155550188' },
        prompt: { repeat: 1, keyTimeoutSeconds: 5 },
        ringTimeoutSeconds: 10,
        retries: { maxAttempts: 1 },
      },
    },
  });
  const a = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
    tenant: 'acme',
    name: 'Bob the Plumber',
    initialBalanceCents: 10_000,
  });
  advertiserId = a.body.id;
  const l = await gw.apiRequest<{ id: string }>('POST', '/v1/listings', {
    advertiserId,
    title: 'Plumber',
    category: 'plumbing',
    region: 'US',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 300,
    dailyBudgetCents: 100_000,
    qualification: { minConnectedSeconds: 0 },
    staticNumber: '+14155550199',
  });
  expect(l.status, JSON.stringify(l.body)).toBe(201);
  listingId = l.body.id;

  const port = await freePort('tcp');
  siteOrigin = `http://127.0.0.1:${port}`;
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
  server = await new Promise<Server>((resolve) => {
    const s = site.listen(port, '127.0.0.1', () => resolve(s));
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await customer?.stop();
  await advertiser?.stop();
  await gw?.close();
  for (const b of held.splice(0)) b.release();
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
    customer = await startSipp({
      scenario: await bundledScenario('uas-carrier-press-1'),
      address: CARRIER,
      localPort: held[0]!.base,
      rtpEcho: true,
      traceMessages: true,
      name: 'customer-press-1',
    });
    const page = await openForm();
    await page.locator('parley-callback select').selectOption('US');
    await page.locator('parley-callback input[type="tel"]').fill('(415) 555-0123');
    await page.locator('parley-callback input[value="now"]').check();
    await page.locator('parley-callback input[type="checkbox"]').check();
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    await page.locator('parley-callback').getByRole('button', { name: 'Call me back' }).click();
    await established;
    const status = page.locator('parley-callback [part="status"]');
    await page.locator('parley-callback [part="status"][data-phase="connected"]').waitFor();
    expect(await status.innerText()).toMatch(/^Connected/);
    // Two seconds of the advertiser's tone recorded back from the customer's echo.
    await until(
      () => wavSeconds(advertiser.lastRecording().received ?? '') >= 2,
      'two seconds',
      30_000,
    );
    await advertiser.hangup();
    await page.locator('parley-callback [part="status"][data-phase="ended"]').waitFor();
    expect(await status.innerText()).toMatch(/over/);

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
    const heard = await analyse(advertiser.lastRecording().received ?? '');
    expect(heard.roughFrequencyHz).toBeGreaterThan(700);
    expect(heard.roughFrequencyHz).toBeLessThan(900);
    // The customer's phone saw the listing's number as caller ID.
    const result = await customer.stop();
    customer = undefined;
    expect(result.messages).toMatch(/From: "?[^\n]*<sip:\+14155550199@/);
    await page.context().close();
  });
});
