/**
 * The marketplace in Chromium: a publisher's page (its own origin) loads the
 * widget from the gateway, `<parley-listings>` asks the auction for three
 * listings and shows them in auction order with the numbers leased for this
 * showing; the impressions are logged with the device, the page and the
 * numbers; a second device gets other numbers. A report page renders
 * `<parley-marketplace-report>` with its chart of calls and spend. Last, the
 * visitor clicks a listing's call button (`<parley-listings token-url>`): the
 * browser's call reaches the listing's baresip agent, who hears the page's
 * microphone, and the call is attributed to the impression it was shown with
 * and charged its price once.
 */
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import { analyse, startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { fakeMicrophone } from '../src/widget-fixture.js';
import { launchChromium } from '@parley/testkit/chromium';
import { servePages, type PageServer } from '../src/page-server.js';

let gw: TestGateway;
let pages: PageServer;
let browser: Browser;
let agent: BaresipAgent;
let advertiserId = '';
let publisherId = '';
const titles: Record<string, string> = {};

const publisherPage = (gateway: string, key: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daily News — plumbers near you</title>
<script type="module" src="${gateway}/widget/parley.js"></script></head>
<body><h1>Plumbers near you</h1>
<parley-listings gateway="${gateway}" publisher="${key}" category="plumbing" region="US-CA" slots="3"></parley-listings>
</body></html>`;

/** The same page with call buttons: the publisher's own token endpoint (`/call-token`). */
const callPage = (gateway: string, key: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daily News — call a plumber</title>
<script type="module" src="${gateway}/widget/parley.js"></script></head>
<body><h1>Call a plumber</h1>
<parley-listings gateway="${gateway}" publisher="${key}" category="plumbing" region="US-CA" slots="3" token-url="/call-token"></parley-listings>
</body></html>`;

const reportPage = (gateway: string, id: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Calls and spend</title>
<script type="module" src="${gateway}/widget/parley.js"></script></head>
<body><parley-marketplace-report src="${gateway}/v1/reports/advertisers/${id}" api-key="${API_KEY}"></parley-marketplace-report>
</body></html>`;

beforeAll(async () => {
  gw = await startTestGateway({
    config: {
      marketplace: {
        tenants: {
          acme: {
            trackingNumbers: { ranges: [{ from: '+14155550100', to: '+14155550119' }] },
          },
        },
      },
      // Tracking numbers must be a trunk's inbound numbers of their tenant (checked at start-up).
      flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
      trunks: {
        carrier: {
          peers: [{ host: '127.0.0.2' }],
          keepAlive: { intervalSeconds: 0 },
          inbound: {
            numbers: [
              { from: '+14155550100', to: '+14155550119', tenant: 'acme', flow: 'not-in-service' },
            ],
          },
        },
      },
    },
  });
  // The page server's origin must be known to the publisher: start it first, then fill its routes.
  const routes: Record<string, { type: string; body: string }> = {};
  // The publisher's token endpoint: a call token for the listing the button names
  // (scope listing:<id>), for this page's origin; what a company's server does.
  pages = await servePages(routes, (req, res, path) => {
    if (path !== '/call-token' || req.method !== 'POST') return false;
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { listing } = JSON.parse(raw) as { listing: string };
      void gw.issuer
        .issue({ subject: 'web-sess-publisher', scope: `listing:${listing}`, origin: pages.origin })
        .then((issued) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              token: issued.token,
              expiresAt: issued.expiresAt.toISOString(),
              claims: {},
              gateway: { url: gw.gateway.httpUrl },
            }),
          ),
        );
    });
    return true;
  });
  const advertiser = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
    tenant: 'acme',
    name: 'Bay Plumbing Group',
    initialBalanceCents: 500_000,
  });
  advertiserId = advertiser.body.id;
  const publisher = await gw.apiRequest<{ id: string; placementKey: string }>(
    'POST',
    '/v1/publishers',
    { tenant: 'acme', name: 'Daily News', origins: [pages.origin] },
  );
  publisherId = publisher.body.id;
  for (const [title, bid] of [
    ['Drain Doctors', 800],
    ['Pipe Pros', 1500],
    ['Leak Busters', 1100],
    ['Faucet Friends', 400],
  ] as const) {
    const l = await gw.apiRequest<{ id: string }>('POST', '/v1/listings', {
      advertiserId,
      title,
      description: `${title}: 24/7 emergency plumbing`,
      category: 'plumbing',
      region: 'US',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: bid,
      dailyBudgetCents: 100_000,
      qualification: { minConnectedSeconds: 0 },
    });
    titles[l.body.id] = title;
  }
  routes['/news.html'] = {
    type: 'text/html',
    body: publisherPage(gw.gateway.httpUrl, publisher.body.placementKey),
  };
  routes['/call.html'] = {
    type: 'text/html',
    body: callPage(gw.gateway.httpUrl, publisher.body.placementKey),
  };
  routes['/report.html'] = {
    type: 'text/html',
    body: reportPage(gw.gateway.httpUrl, advertiserId),
  };
  // The visitor's microphone: a 700 Hz tone the agent must hear.
  const mic = await fakeMicrophone();
  browser = await launchChromium({ fakeAudioCapture: mic });
  agent = await startBaresipAgent({ user: 'agent1', password: 'secret', registrar: gw.udp });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await browser?.close();
  await pages?.close();
  await gw?.close();
  await stopAll();
});

interface Shown {
  title: string;
  number: string;
  impression: string;
}

async function showListings(): Promise<{ shown: Shown[]; screenshot: Buffer }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pages.origin}/news.html`);
  const items = page.locator('parley-listings li');
  await items.nth(2).waitFor();
  const shown = await items.evaluateAll((lis) =>
    lis.map((li) => ({
      title: li.querySelector('h3')?.textContent ?? '',
      number: li.querySelector('a[href^="tel:"]')?.textContent ?? '',
      impression: li.getAttribute('data-impression') ?? '',
    })),
  );
  const screenshot = await page.screenshot();
  await context.close();
  return { shown, screenshot };
}

describe('a publisher page', () => {
  it('shows listings in auction order with their leased numbers, and logs each impression', async () => {
    const { shown, screenshot } = await showListings();
    mkdirSync('/tmp/parley-e2e', { recursive: true });
    await import('node:fs').then((fs) =>
      fs.writeFileSync('/tmp/parley-e2e/marketplace-listings.png', screenshot),
    );
    // Neutral quality: the order of the bids; the lowest bidder gets no slot.
    expect(shown.map((s) => s.title)).toEqual(['Pipe Pros', 'Leak Busters', 'Drain Doctors']);
    for (const s of shown) expect(s.number).toMatch(/^\+141555501[01]\d$/);
    expect(new Set(shown.map((s) => s.number)).size).toBe(3);

    const logged = await gw.api<{
      impressions: {
        id: string;
        listingId: string;
        slot: number;
        number: string;
        numberKind: string;
        page: string;
        deviceId: string;
        priceCents: number;
        leaseStart: string;
        leaseEnd: string;
      }[];
    }>('/v1/impressions');
    const byId = new Map(logged.body.impressions.map((i) => [i.id, i]));
    shown.forEach((s, index) => {
      const i = byId.get(s.impression);
      expect(i, s.impression).toBeDefined();
      expect(titles[i?.listingId ?? '']).toBe(s.title);
      expect(i).toMatchObject({
        slot: index + 1,
        number: s.number,
        numberKind: 'leased',
        page: `${pages.origin}/news.html`,
      });
      expect(Date.parse(i?.leaseEnd ?? '') - Date.parse(i?.leaseStart ?? '')).toBe(900_000);
    });
    // One device id for the three, kept by the widget in the browser.
    expect(new Set(shown.map((s) => byId.get(s.impression)?.deviceId)).size).toBe(1);
    // GSP prices: 1100 and 800 for the next bids, then the last pays the fourth bid.
    expect(shown.map((s) => byId.get(s.impression)?.priceCents)).toEqual([1100, 800, 400]);
  });

  it('gives another device other numbers', async () => {
    const first = await gw.api<{ impressions: { number: string }[] }>('/v1/impressions');
    const before = new Set(first.body.impressions.map((i) => i.number));
    const { shown } = await showListings();
    for (const s of shown) expect(before.has(s.number), s.number).toBe(false);
  });
});

describe('the report page', () => {
  it('renders calls and spend per day as a chart and a table', async () => {
    // Two qualified calls through the call path's hooks, so the report has something to show.
    const { hooks } = gw.gateway.marketplace;
    const impressions = await gw.api<{ impressions: { number: string }[] }>('/v1/impressions');
    for (const [n, callId] of [
      [0, 'e2e-call-1'],
      [1, 'e2e-call-2'],
    ] as const) {
      const at = Date.now();
      const match = await hooks.matchInbound({
        calledNumber: impressions.body.impressions[n]?.number ?? '',
        at,
      });
      expect(match?.routable).toBe(true);
      if (!match) continue;
      await hooks.callStarted(callId, match, at);
      await hooks.advertiserConnected(callId, at);
      expect((await hooks.qualify(callId, at)).status).toBe('charged');
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${pages.origin}/report.html`);
    const row = page.locator('parley-marketplace-report tbody tr');
    await row.first().waitFor();
    const cells = await row.first().locator('td').allTextContents();
    expect(cells[1]).toBe('2');
    expect(cells[2]).toBe('2');
    // Thirty days (the default range), one bar each; today's is the tallest.
    expect(await page.locator('parley-marketplace-report svg rect.bar').count()).toBe(30);
    expect(
      await page.locator('parley-marketplace-report svg path.spend').getAttribute('d'),
    ).toMatch(/^M/);
    await import('node:fs').then(async (fs) =>
      fs.writeFileSync('/tmp/parley-e2e/marketplace-report.png', await page.screenshot()),
    );
    await context.close();
  });
});

describe("a listing's call button", () => {
  it('calls the listing from the browser, attributed to the impression and charged its price once', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['microphone']);
    const page = await context.newPage();
    await page.goto(`${pages.origin}/call.html`);
    const first = page.locator('parley-listings li').first();
    await first.locator('parley-call').waitFor();
    const impression = (await first.getAttribute('data-impression')) ?? '';
    const listing = (await first.getAttribute('data-listing')) ?? '';
    expect(titles[listing]).toBe('Pipe Pros');
    // The button carries the impression sealed by the gateway, not the bare id (a claim).
    expect(await first.locator('parley-call').getAttribute('impression')).toMatch(
      new RegExp(`^${impression}\\.[\\w-]{22}$`),
    );
    const mark = agent.sipMessages().length;
    await first.locator('parley-call').getByRole('button', { name: /call/i }).first().click();
    const invite = await agent.waitForRequest('INVITE', undefined, 15_000, { since: mark });
    expect(invite.header('x-parley-impression')).toBeUndefined();

    // The agent hears the page's microphone, then hangs up; the call is attributed and charged.
    await expect
      .poll(() => gw.gateway.calls.list().some((c) => c.state === 'answered'), { timeout: 15_000 })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    await agent.hangup();
    await gw.callsEnded();
    const heard = await analyse(agent.lastRecording().received ?? '');
    expect(Math.abs(heard.roughFrequencyHz - 700)).toBeLessThan(60);
    await context.close();

    const calls = await gw.api<{ calls: { id: string; marketplace: Record<string, unknown> }[] }>(
      '/v1/calls?limit=1',
    );
    const call = calls.body.calls[0];
    // The auction's price of this impression (quality has moved since the first page: not 1100).
    const shown = await gw.api<{ priceCents: number }>(`/v1/impressions/${impression}`);
    const price = shown.body.priceCents;
    expect(price).toBeGreaterThan(0);
    expect(call?.marketplace).toMatchObject({
      kind: 'web',
      listingId: listing,
      impressionId: impression,
      publisherId,
      advertiserId,
      priceCents: price,
      chargedCents: price,
    });
    const ledger = await gw.api<{ transactions: { kind: string; key: string }[] }>(
      `/v1/advertisers/${advertiserId}/ledger`,
    );
    expect(
      ledger.body.transactions.filter((t) => t.kind === 'charge' && t.key === `charge:${call?.id}`),
    ).toHaveLength(1);
  });
});
