/**
 * The README's demo command, as a person uses it: start it, open the printed
 * URL in Chromium, get a call token and see its public claims, be refused by
 * screening, then click the call button and hear the agent's greeting.
 */
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { PortAllocator, spawnManaged, stopAll, type ManagedProcess } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import { PROBE, clickCall, inboundAudio, states } from '../src/widget-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let demo: ManagedProcess;
let url = '';
let gatewayUrl = '';
let apiKey = '';
let browser: Browser;

beforeAll(async () => {
  const ports = new PortAllocator();
  const [site, gateway, sip] = await Promise.all([
    ports.allocate(1),
    ports.allocate(1),
    ports.allocate(1),
  ]);
  const media = await ports.allocate(1000, { protocols: ['udp'] });
  demo = spawnManaged({
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'demo/src/run.ts')],
    cwd: ROOT,
    env: {
      ...process.env,
      DEMO_DIR: mkdtempSync(join(tmpdir(), 'parley-demo-')),
      DEMO_PORT: String(site.base),
      DEMO_GATEWAY_PORT: String(gateway.base),
      DEMO_SIP_PORT: String(sip.base),
      DEMO_MEDIA_PORT: String(media.base),
    },
    name: 'demo',
  });
  await demo.waitForOutput(/Press Ctrl\+C to stop/, 60_000).catch(() => {
    throw new Error(`the demo did not start:\n${demo.describe()}`);
  });
  url = /Open (http\S+)/.exec(demo.output())?.[1] ?? '';
  gatewayUrl = /Agent desk: (http\S+)\/desk/.exec(demo.output())?.[1] ?? '';
  apiKey = /Authorization: Bearer (\S+)'/.exec(demo.output())?.[1] ?? '';
  expect(url, demo.output()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stopAll();
});

describe('the demo', () => {
  it('issues a token and shows its public claims; screening refuses a closed queue', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: 'Get a call token' }).click();
    await expect.poll(() => page.locator('#result').innerText()).toContain('Screening passed');
    const text = await page.locator('#result').innerText();
    expect(text).toContain('demo-company');
    expect(text).toContain('queue:sales');
    await page.getByRole('button', { name: 'Check it at the gateway' }).click();
    await expect
      .poll(() => page.locator('#result').innerText())
      .toContain('The gateway accepts this token');

    await page.locator('#queue').selectOption('holidays');
    await page.getByRole('button', { name: 'Get a call token' }).click();
    await expect
      .poll(() => page.locator('#result').innerText())
      .toContain('Screening refused: outside_business_hours');
    await page.close();
  });

  it.each([
    ['C-1001', 'senior', 'high'],
    ['C-2002', 'junior', 'standard'],
  ])(
    'calls as customer %s: the %s agent answers (value band %s) and its greeting plays',
    async (customer, agentId, band) => {
      const context = await browser.newContext();
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      await page.goto(url);
      // Signed in on the company's site as this customer.
      await expect.poll(() => page.locator('#customer option').count()).toBeGreaterThan(1);
      await page.locator('#customer').selectOption(customer);
      await expect
        .poll(async () => (await context.cookies()).find((c) => c.name === 'demo_customer')?.value)
        .toBe(customer);
      await clickCall(page);
      await expect.poll(() => states(page), { timeout: 20_000 }).toContain('in-call');
      await expect
        .poll(async () => (await inboundAudio(page)).energy, { timeout: 15_000 })
        .toBeGreaterThan(0.001);
      await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
      await expect.poll(() => states(page)).toContain('ended');
      const health = (await (await fetch(`${gatewayUrl}/healthz`)).json()) as { ok: boolean };
      expect(health.ok).toBe(true);
      // The record: who answered, and the value the company's scoring endpoints gave.
      const { calls } = (await (
        await fetch(`${gatewayUrl}/v1/calls?limit=1`, {
          headers: { authorization: `Bearer ${apiKey}` },
        })
      ).json()) as {
        calls: { agentId: string; customerId: string; routing: { tier: string; value: number } }[];
      };
      expect(calls[0]).toMatchObject({ agentId, customerId: customer, routing: { tier: band } });
      await context.close();
    },
  );
});
