/**
 * `<parley-resident-phone>` in Chromium against a real gateway, called by a
 * real SIP caller (sipp, with a call token whose private claims name the
 * caller and the account): the device signs in with its credential and
 * registers, the resident signs in with their PIN, the call rings with the
 * caller's name, a wrong PIN is refused, the right one is re-verified by the
 * gateway and answers with the ticket in the 200 OK, audio arrives, and every
 * decision is stored.
 *
 * The gated call path (`gateway/src/gated/call/`) authorises the call before
 * the device rings, rings the device's registration (a WebRTC leg over its
 * WebSocket), and re-verifies the ticket the device puts in its 200 OK before
 * it connects the caller. A caller on no account is refused (480) and the
 * device never rings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { bundledScenario, runSipp, stopAll } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import { TENANT, startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import { fakeMicrophone, inboundAudio } from '../src/widget-fixture.js';

let gw: TestGateway;
let browser: Browser;
let device: { sipUser: string; secret: string };
let accountNumber = '';

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  return gw.apiRequest<T>(method, path, body);
}

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [],
    ringTimeoutSeconds: 60,
    tenantExtra: { gated: { pin: { delayMs: 0, maxFailures: 5 } } },
  });
  const mic = await fakeMicrophone();
  browser = await launchChromium({ fakeAudioCapture: mic });

  // The facility, through its API.
  const base = `/v1/gated/${TENANT}`;
  const created = await api<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${base}/devices/tab-7`,
    { kind: 'app', name: 'Unit B tablet 7' },
  );
  expect(created.status).toBe(201);
  device = created.body.credential;
  expect(
    (
      await api('PUT', `${base}/residents/r-1`, {
        name: 'Rita Resident',
        pin: '2468',
        devices: ['tab-7'],
      })
    ).status,
  ).toBe(201);
  const account = await api<{ id: string; number: string }>('POST', `${base}/accounts`, {
    name: 'Grace Hopper',
    phones: [{ number: '+14155550123', verified: true }],
  });
  accountNumber = account.body.number;
  await api('PUT', `${base}/accounts/${account.body.id}/residents/r-1`, { status: 'approved' });
  await api('POST', `${base}/accounts/${account.body.id}/credits`, { amount: 500, key: 'seed' });
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await stopAll();
});

const phone = (page: Page) => page.locator('parley-resident-phone');

async function ringingCallId(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      (
        document.querySelector('parley-resident-phone') as unknown as {
          controller: { ringing?: { callId: string } };
        }
      ).controller.ringing?.callId ?? '',
  );
}

describe('<parley-resident-phone>', () => {
  it('signs in, registers, rings with the caller’s name and connects only with the resident’s PIN', async () => {
    const page = await browser.newPage();
    const events: string[] = [];
    await page.exposeFunction('recordEvent', (e: string) => events.push(e));
    await page.addInitScript(() => {
      for (const type of ['parley-resident-state', 'parley-resident-call'])
        document.addEventListener(type, (e) =>
          (window as unknown as { recordEvent(e: string): void }).recordEvent(
            `${type} ${JSON.stringify((e as CustomEvent).detail)}`,
          ),
        );
      window.__pcs = [];
      const Original = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Original {
        constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
          super(...args);
          window.__pcs.push(this);
        }
      };
    });
    await page.goto(`${gw.gateway.httpUrl}/resident`);

    // The device signs in with its credential (the set-up form) and registers.
    await phone(page).getByLabel('Facility').fill(TENANT);
    await phone(page).getByLabel('Device', { exact: true }).fill('tab-7');
    await phone(page).getByLabel('Device secret').fill(device.secret);
    await phone(page).getByRole('button', { name: 'Connect' }).click();
    await expect
      .poll(() => phone(page).locator('[part="status"]').innerText(), { timeout: 20_000 })
      .toContain('Ready');
    await expect
      .poll(
        async () =>
          (await api<{ registered: boolean }>('GET', `/v1/gated/${TENANT}/devices/tab-7`)).body
            .registered,
      )
      .toBe(true);

    // The resident signs in with their PIN on the device.
    await phone(page).getByLabel('PIN', { exact: true }).fill('2468');
    await phone(page).getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => phone(page).locator('[part="idle"]').innerText())
      .toContain('Rita Resident');

    // A real SIP caller: sipp with a call token whose private claims carry the name and the account.
    const token = await gw.token({
      privateClaims: { name: 'Grace Hopper', account: accountNumber },
    });
    // What the device's 200 OK carries, as the gateway's transport received it.
    const tickets: (string | undefined)[] = [];
    gw.gateway.stack.transport.on('response', (response) => {
      if (response.status === 200 && response.cseq.method === 'INVITE')
        tickets.push(response.headers.get('x-parley-device-ticket'));
    });
    const caller = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 6000,
      injection: { rows: [[token]] },
      timeoutMs: 120_000,
    });

    // The device rings with the caller's name.
    await expect
      .poll(() => phone(page).locator('[part="ringing"] [part="caller-name"]').innerText(), {
        timeout: 30_000,
      })
      .toBe('Grace Hopper');
    const callId = await ringingCallId(page);
    expect(callId).not.toBe('');

    // The call path authorised the call before the device rang.
    expect(gw.gateway.gated.gate.pendingCount).toBe(1);

    // A wrong PIN: refused, the call still rings.
    await phone(page).getByLabel('PIN', { exact: true }).fill('1357');
    await phone(page).getByRole('button', { name: 'Answer' }).click();
    await expect
      .poll(() => phone(page).locator('[part="ringing"] [part="error"]').innerText())
      .toBe('That PIN is not correct.');

    // The right PIN on the pad: re-verified by the gateway, answered with its ticket.
    for (const digit of '2468')
      await phone(page).getByRole('button', { name: digit, exact: true }).click();
    await phone(page).getByRole('button', { name: 'Answer' }).click();
    await expect
      .poll(() => phone(page).locator('[part="call"] [part="caller-name"]').innerText(), {
        timeout: 20_000,
      })
      .toBe('Grace Hopper');

    // The 200 OK carried the ticket; the call path re-verified it (once) before connecting.
    await expect.poll(() => tickets.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(tickets.at(-1)).toMatch(/^[A-Za-z0-9_-]{24}$/);

    // sipp's 1 kHz tone reaches the resident.
    await expect
      .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.0001);

    // The caller hangs up after its call; the device is idle again.
    const result = await caller;
    expect(result.stats.successful, result.output).toBe(1);
    await expect
      .poll(() => phone(page).locator('[part="idle"]').isVisible(), { timeout: 10_000 })
      .toBe(true);

    // Every decision of the call is stored, in order, with its reasons.
    const { body } = await api<{
      decisions: { stage: string; allowed: boolean; failed: string | null }[];
    }>('GET', `/v1/gated/${TENANT}/decisions?callId=${callId}`);
    expect(body.decisions.map((d) => [d.stage, d.allowed, d.failed]).reverse()).toEqual([
      ['authorize', true, null],
      ['device-pin', false, 'resident_pin'],
      ['device-pin', true, null],
      ['reverify', true, null],
    ]);
    expect(
      events.some((e) => e.startsWith('parley-resident-call') && e.includes('"state":"ringing"')),
    ).toBe(true);
    await page.close();
  });

  it('never rings for a caller the gateway refuses: 480 callee_not_available, the decision stored', async () => {
    const page = await browser.newPage();
    await page.goto(`${gw.gateway.httpUrl}/resident`);
    await phone(page).getByLabel('Facility').fill(TENANT);
    await phone(page).getByLabel('Device', { exact: true }).fill('tab-7');
    await phone(page).getByLabel('Device secret').fill(device.secret);
    await phone(page).getByRole('button', { name: 'Connect' }).click();
    // The resident is still signed in on the device (the sign-in is the device's, not the page's).
    await expect
      .poll(() => phone(page).locator('[part="idle"]').isVisible(), { timeout: 20_000 })
      .toBe(true);
    await expect
      .poll(
        async () =>
          (await api<{ registered: boolean }>('GET', `/v1/gated/${TENANT}/devices/tab-7`)).body
            .registered,
      )
      .toBe(true);
    const rang: string[] = [];
    await page.exposeFunction('recordRing', (e: string) => rang.push(e));
    await page.evaluate(() =>
      document.addEventListener('parley-resident-call', (e) =>
        (window as unknown as { recordRing(e: string): void }).recordRing(
          JSON.stringify((e as CustomEvent).detail),
        ),
      ),
    );
    const callIds: string[] = [];
    gw.gateway.calls.onCall((call) => callIds.push(call.id));
    // No account in the token: the Gate refuses (caller_account) before any device is notified.
    const token = await gw.token({ privateClaims: { name: 'Someone Else' } });
    const caller = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 2000,
      injection: { rows: [[token]] },
      timeoutMs: 90_000,
    });
    const result = await caller;
    expect(result.stats.successful).toBe(0);
    expect(result.messages).toMatch(
      /SIP\/2\.0 480[^\n]*\n[\s\S]*?Reason: SIP;cause=480;text="callee_not_available"/,
    );
    expect(callIds).toHaveLength(1);
    const { body } = await api<{ decisions: { stage: string; failed: string | null }[] }>(
      'GET',
      `/v1/gated/${TENANT}/decisions?callId=${callIds[0]}`,
    );
    expect(body.decisions).toMatchObject([{ stage: 'authorize', failed: 'caller_account' }]);
    // The device never rang.
    expect(rang).toEqual([]);
    expect(await phone(page).locator('[part="idle"]').isVisible()).toBe(true);
    await page.close();
  });
});

declare global {
  interface Window {
    __pcs: RTCPeerConnection[];
  }
}
