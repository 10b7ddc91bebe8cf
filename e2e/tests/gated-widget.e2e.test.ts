/**
 * Chromium as a gated facility's caller (docs/gated.md, "The call path"): the
 * facility's own visiting page (served by this test, on its own origin) has
 * `<parley-call>`; its token endpoint mints, at test time, a call token whose
 * private claims carry the visitor's inbound calling account. The resident's
 * device is `<parley-resident-phone>` in a second Chromium page, signed in.
 *
 * - an approved account: the Gate authorises it, the device rings with the
 *   account's name, the resident's PIN is re-verified with the ticket in the
 *   200 OK, the widget is in the call, audio arrives on both pages (each
 *   page's only inbound audio is the other's microphone: the gateway says
 *   nothing to either), a minute is charged, the decisions are stored;
 * - an account the facility suspended: the widget shows
 *   `callee_not_available` (its `parley-error` and status line), the device
 *   never rings, the decision is stored with `account_status`;
 * - an account suspended during a connected call: the recheck (every
 *   second here) refuses it and the gateway ends the call; the widget shows
 *   `callee_not_available`, the tablet is idle again.
 *
 * The demo site's customers are fixed at build time and carry no gated
 * account: hence this page and token endpoint of the test's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { stopAll, until } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import { TENANT, startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import { servePages, type PageServer } from '../src/page-server.js';
import {
  PROBE,
  clickCall,
  errors,
  fakeMicrophone,
  inboundAudio,
  states,
  statusText,
} from '../src/widget-fixture.js';

const GATED = `/v1/gated/${TENANT}`;
/** The residents' numbers (what a visitor chooses on the facility's site). */
const RITA = '4701';
const SAM = '5812';

let gw: TestGateway;
let pages: PageServer;
let browser: Browser;
let resident: Page;
/** What the resident's device reported (`parley-resident-call` details). */
const residentCalls: string[] = [];
const accounts: Record<string, { id: string; number: string }> = {};

/** The facility's visiting page: the widget, and its token endpoint beside it. */
const visitPage = (gateway: string, query: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Northside: call a resident</title>
<script type="module" src="${gateway}/widget/parley.js"></script></head>
<body><h1>Call Rita</h1>
<parley-call token-url="/call-token?${query}" queue="sales" domain="parley.test" label="Call Rita"></parley-call>
</body></html>`;

const phone = (page: Page) => page.locator('parley-resident-phone');

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [],
    ringTimeoutSeconds: 60,
    // Connected calls are re-verified every second (the third case suspends an account mid-call).
    tenantExtra: { gated: { pin: { delayMs: 0, maxFailures: 5 }, reverifyIntervalSeconds: 1 } },
  });
  // The facility's site: the page, and a token endpoint that puts the visitor's
  // account (what its own login knows; here the query) in the private claims.
  pages = await servePages({}, (req, res, path) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const account = url.searchParams.get('account') ?? '';
    // The resident the visitor chose on the site (the number the facility gave them), if any.
    const resident = url.searchParams.get('resident');
    if (path === '/visit.html') {
      res
        .writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' })
        .end(visitPage(gw.gateway.httpUrl, url.searchParams.toString()));
      return true;
    }
    if (path !== '/call-token' || req.method !== 'POST') return false;
    req.resume();
    req.on('end', () => {
      void gw.issuer
        .issue({
          subject: `visit-${account}`,
          scope: 'queue:sales',
          origin: pages.origin,
          privateClaims: { name: 'Web visitor', account, ...(resident ? { resident } : {}) },
        })
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

  // The facility, through its API: a tablet, Rita on it, two visitors' accounts.
  const created = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${GATED}/devices/tab-7`,
    { kind: 'app', name: 'Unit B tablet 7' },
  );
  expect(created.status).toBe(201);
  const device = created.body.credential;
  const rita = await gw.apiRequest('PUT', `${GATED}/residents/r-1`, {
    name: 'Rita Resident',
    pin: '2468',
    devices: ['tab-7'],
  });
  expect(rita.status).toBe(201);
  // All approved to call Rita; the facility has suspended Mallory's account.
  for (const [key, name, status] of [
    ['grace', 'Grace Hopper', 'active'],
    ['mallory', 'Mallory Jones', 'suspended'],
    ['hal', 'Hal Abelson', 'active'],
    ['ada', 'Ada Lovelace', 'active'],
  ] as const) {
    const made = await gw.apiRequest<{ id: string; number: string }>('POST', `${GATED}/accounts`, {
      name,
      phones: [],
      ratePerMinute: 10,
      status,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    accounts[key] = made.body;
    await gw.apiRequest('PUT', `${GATED}/accounts/${made.body.id}/residents/r-1`, {
      status: 'approved',
    });
    await gw.apiRequest('POST', `${GATED}/accounts/${made.body.id}/credits`, {
      amount: 500,
      key: `seed-${key}`,
    });
  }

  // Ada may also call Sam (on a tablet of his own): she must say whom she calls.
  expect((await gw.apiRequest('PUT', `${GATED}/residents/r-1`, { number: RITA })).status).toBe(200);
  await gw.apiRequest('PUT', `${GATED}/devices/tab-9`, { kind: 'app', name: 'Unit C tablet 9' });
  await gw.apiRequest('PUT', `${GATED}/residents/r-2`, {
    name: 'Sam Resident',
    number: SAM,
    pin: '1357',
    devices: ['tab-9'],
  });
  await gw.apiRequest('PUT', `${GATED}/accounts/${accounts['ada']!.id}/residents/r-2`, {
    status: 'approved',
  });

  const mic = await fakeMicrophone();
  browser = await launchChromium({ fakeAudioCapture: mic });

  // The resident's tablet: the device signs in with its credential, registers,
  // and Rita signs in with her PIN.
  resident = await browser.newPage();
  await resident.exposeFunction('recordResidentCall', (e: string) => residentCalls.push(e));
  await resident.addInitScript(() => {
    document.addEventListener('parley-resident-call', (e) =>
      (window as unknown as { recordResidentCall(e: string): void }).recordResidentCall(
        JSON.stringify((e as CustomEvent).detail),
      ),
    );
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = [];
    const Original = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Original {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args);
        (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.push(this);
      }
    };
  });
  await resident.goto(`${gw.gateway.httpUrl}/resident`);
  await phone(resident).getByLabel('Facility').fill(TENANT);
  await phone(resident).getByLabel('Device', { exact: true }).fill('tab-7');
  await phone(resident).getByLabel('Device secret').fill(device.secret);
  await phone(resident).getByRole('button', { name: 'Connect' }).click();
  // (`until`, not expect.poll: this is set-up, outside any test.)
  await until(
    async () => (await phone(resident).locator('[part="status"]').innerText()).includes('Ready'),
    'the tablet to be ready',
    20_000,
  );
  await until(
    async () =>
      (await gw.apiRequest<{ registered: boolean }>('GET', `${GATED}/devices/tab-7`)).body
        .registered,
    'the tablet to be registered',
  );
  await phone(resident).getByLabel('PIN', { exact: true }).fill('2468');
  await phone(resident).getByRole('button', { name: 'Sign in' }).click();
  await until(
    async () =>
      (await phone(resident).locator('[part="idle"]').innerText()).includes('Rita Resident'),
    'Rita to be signed in on the tablet',
  );
});

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await gw?.close();
  await stopAll();
});

/** The visitor's page of the facility's site, for `account`'s number. */
async function visitor(
  account: string,
  resident?: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  await context.addInitScript(PROBE);
  const page = await context.newPage();
  const query = new URLSearchParams({ account, ...(resident ? { resident } : {}) });
  await page.goto(`${pages.origin}/visit.html?${query}`);
  return { context, page };
}

async function decisions(accountId: string) {
  const { body } = await gw.apiRequest<{
    decisions: {
      stage: string;
      allowed: boolean;
      failed: string | null;
      callId: string;
      residentId: string | null;
    }[];
  }>('GET', `${GATED}/decisions?accountId=${accountId}`);
  return body.decisions.reverse();
}

describe('the widget as a gated caller', () => {
  it('an approved account: the device rings with its name, the PIN connects it, audio both ways, a minute charged', async () => {
    const grace = accounts['grace']!;
    const { context, page } = await visitor(grace.number);
    await clickCall(page);

    // The resident's device rings with the account's name.
    await expect
      .poll(() => phone(resident).locator('[part="ringing"] [part="caller-name"]').innerText(), {
        timeout: 30_000,
      })
      .toBe('Grace Hopper');
    // The widget hears it ring (the device's 180 reached the browser).
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ringing');
    expect(await states(page)).not.toContain('in-call');

    // Rita keys her PIN on the pad and answers: re-verified, connected.
    for (const digit of '2468')
      await phone(resident).getByRole('button', { name: digit, exact: true }).click();
    await phone(resident).getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('in-call');
    await expect
      .poll(() => phone(resident).locator('[part="call"] [part="caller-name"]').innerText(), {
        timeout: 20_000,
      })
      .toBe('Grace Hopper');

    // Audio both ways: the visitor's microphone reaches the tablet, the tablet's the visitor.
    await expect
      .poll(async () => (await inboundAudio(resident)).energy, { timeout: 15_000 })
      .toBeGreaterThan(0.0001);
    await expect
      .poll(async () => (await inboundAudio(page)).energy, { timeout: 15_000 })
      .toBeGreaterThan(0.0001);

    // The meter charged the first minute at connect.
    const charges = await gw.apiRequest<{ charges: { amount: number }[] }>(
      'GET',
      `${GATED}/accounts/${grace.id}/charges`,
    );
    expect(charges.body.charges.map((c) => c.amount)).toEqual([10]);

    // The visitor hangs up; the tablet is idle again, the call over.
    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ended');
    await expect
      .poll(() => phone(resident).locator('[part="idle"]').isVisible(), { timeout: 10_000 })
      .toBe(true);
    await gw.callsEnded(10_000);
    expect(await errors(page)).toEqual([]);

    // The Gate's decisions, in order: authorised by the token's account, the
    // PIN on the device, the ticket re-verified before connecting (then the
    // rechecks of the connected call, every second, all allowed).
    const made = await decisions(grace.id);
    const shown = made.map((d) => [d.stage, d.allowed, d.failed]);
    expect(shown.filter(([stage]) => stage !== 'recheck')).toEqual([
      ['authorize', true, null],
      ['device-pin', true, null],
      ['reverify', true, null],
    ]);
    for (const r of shown.filter(([stage]) => stage === 'recheck'))
      expect(r).toEqual(['recheck', true, null]);
    expect(new Set(made.map((d) => d.callId)).size).toBe(1);
    await context.close();
  });

  it('a suspended account: callee_not_available in the widget, the device never rings', async () => {
    const mallory = accounts['mallory']!;
    const rangBefore = residentCalls.filter((e) => e.includes('"state":"ringing"')).length;
    const { context, page } = await visitor(mallory.number);
    await clickCall(page);

    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('error');
    expect((await errors(page)).map((e) => e.code)).toEqual(['callee_not_available']);
    await expect
      .poll(() => statusText(page))
      .toContain('The person you are calling is not available.');
    // Nothing of the check that failed reaches the page.
    expect(JSON.stringify(await errors(page))).not.toContain('account_status');

    // The decision is stored with its reason; the tablet never rang.
    await gw.callsEnded(10_000);
    const made = await decisions(mallory.id);
    expect(made.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
      ['authorize', false, 'account_status'],
    ]);
    expect(residentCalls.filter((e) => e.includes('"state":"ringing"')).length).toBe(rangBefore);
    expect(await phone(resident).locator('[part="idle"]').isVisible()).toBe(true);
    await context.close();
  });

  it('an account suspended during the call: the next recheck ends it, the widget says callee_not_available', async () => {
    const hal = accounts['hal']!;
    const { context, page } = await visitor(hal.number);
    await clickCall(page);
    await expect
      .poll(() => phone(resident).locator('[part="ringing"] [part="caller-name"]').innerText(), {
        timeout: 30_000,
      })
      .toBe('Hal Abelson');
    for (const digit of '2468')
      await phone(resident).getByRole('button', { name: digit, exact: true }).click();
    await phone(resident).getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('in-call');
    // A recheck of the connected call passed; then the facility suspends the account.
    await expect
      .poll(async () => (await decisions(hal.id)).some((d) => d.stage === 'recheck' && d.allowed), {
        timeout: 20_000,
      })
      .toBe(true);
    const suspended = await gw.apiRequest('PATCH', `${GATED}/accounts/${hal.id}`, {
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);

    // The next recheck refuses: the gateway's BYE carries the one code the widget shows.
    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('error');
    expect((await errors(page)).map((e) => e.code)).toEqual(['callee_not_available']);
    await expect
      .poll(() => statusText(page))
      .toContain('The person you are calling is not available.');
    await expect
      .poll(() => phone(resident).locator('[part="idle"]').isVisible(), { timeout: 10_000 })
      .toBe(true);
    await gw.callsEnded(10_000);
    const made = await decisions(hal.id);
    expect(made.at(-1)).toMatchObject({
      stage: 'recheck',
      allowed: false,
      failed: 'account_status',
    });
    const call = await gw.apiRequest<{ outcome: string; reason: string; endedBy: string }>(
      'GET',
      `/v1/calls/${made.at(-1)!.callId}`,
    );
    expect(call.body).toMatchObject({
      outcome: 'answered',
      endedBy: 'gateway',
      reason: 'callee_not_available',
    });
    await context.close();
  });

  it('an account approved for two residents: the site names the one chosen (claim `resident`), else it is refused', async () => {
    const ada = accounts['ada']!;
    const rang = () => residentCalls.filter((e) => e.includes('"state":"ringing"')).length;
    const before = rang();
    // No resident named: the Gate cannot choose for her (callee), nothing rings.
    const first = await visitor(ada.number);
    await clickCall(first.page);
    await expect.poll(() => states(first.page), { timeout: 20_000 }).toContain('error');
    expect((await errors(first.page)).map((e) => e.code)).toEqual(['callee_not_available']);
    await gw.callsEnded(10_000);
    expect((await decisions(ada.id)).map((d) => [d.stage, d.allowed, d.failed])).toEqual([
      ['authorize', false, 'callee'],
    ]);
    expect(rang()).toBe(before);
    await first.context.close();

    // Rita's number in the token: Rita's tablet rings with Ada's name; Ada gives up.
    const second = await visitor(ada.number, RITA);
    await clickCall(second.page);
    await expect
      .poll(() => phone(resident).locator('[part="ringing"] [part="caller-name"]').innerText(), {
        timeout: 30_000,
      })
      .toBe('Ada Lovelace');
    await second.page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => states(second.page), { timeout: 10_000 }).toContain('ended');
    await expect
      .poll(() => phone(resident).locator('[part="idle"]').isVisible(), { timeout: 10_000 })
      .toBe(true);
    await gw.callsEnded(10_000);
    const made = await decisions(ada.id);
    expect(made.at(-1)).toMatchObject({ stage: 'authorize', allowed: true, residentId: 'r-1' });
    await second.context.close();
  });
});
