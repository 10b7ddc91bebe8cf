/**
 * A call's flow live on the agent desk in Chromium (issue 10): sipp is the
 * carrier calling a DID (127.0.0.2, on the trunk's access list) whose flow
 * says a prompt, gathers a key, records the caller until `#` and dials the
 * agent; a baresip phone registered as the agent answers. The agent's desk
 * (a Chromium page, its softphone off: the agent answers on the baresip
 * phone) shows the flow in its "Live" card while it runs: the key the caller
 * pressed is on the page while the recording (the verb before the dial) is
 * still going; at the end the whole menu is there and the flow is over.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER, carrierTrunk } from '@parley/gateway/carrier';
import { registeredAgent, startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';

const DID = '+14155550142';
let gw: TestGateway;
let agent: BaresipAgent;
let browser: Browser;

beforeAll(async () => {
  gw = await startTestGateway({
    config: {
      flows: {
        'sales-line': [
          { verb: 'say', text: 'Welcome to Parley. Press one for sales.', interruptible: true },
          { verb: 'gather', numDigits: 1, timeout: 10 },
          { verb: 'record', maxLengthSeconds: 30, finishOnKey: '#', beep: false },
          { verb: 'dial', target: { type: 'agent', agent: 'agent1' }, timeout: 10 },
        ],
      },
      trunks: { carrier: carrierTrunk({ dids: { [DID]: 'sales-line' } }) },
    },
  });
  agent = await registeredAgent(gw, { codecs: ['PCMA', 'PCMU'] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  await gw?.close();
  await stopAll();
});

describe.skipIf(!sippAvailable())('a call’s flow live on the desk', () => {
  it('shows the key pressed while the caller records, then the whole menu', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => localStorage.setItem('parley-desk.softphone', 'off'));
    const desk = await context.newPage();
    await desk.goto(`${gw.gateway.httpUrl}/desk`);
    await desk.getByLabel('Username').fill('agent1');
    await desk.getByLabel('Password').fill('secret');
    await desk.getByRole('button', { name: 'Sign in' }).click();
    await desk.locator('parley-agent-desk [part="recent"]').waitFor();

    const call = runSipp({
      scenario: await bundledScenario('uac-carrier-flow'),
      remote: gw.udp,
      address: CARRIER,
      calls: 1,
      injection: { rows: [[DID, '4155550199']] },
      timeoutMs: 60_000,
      recvTimeoutMs: 30_000,
    });
    const flow = desk.locator('parley-agent-desk [part="live-flow"]');
    // While the caller records (between its 1 and its #), the desk already shows the 1.
    await flow.filter({ hasText: 'Recording the caller' }).waitFor({ timeout: 30_000 });
    const during = await flow.innerText();
    expect(during).toMatch(/Call in flow sales-line/);
    expect(during).toMatch(/Pressed 1/);

    const result = await call;
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    await desk.locator('parley-agent-desk [part="live-flow"][data-ended]').waitFor();
    const steps = await flow.locator('[part="live-flow-steps"] li').allInnerTexts();
    expect(steps.slice(0, 4)).toEqual([
      'Pressed 1 during a prompt',
      'Pressed 1',
      expect.stringMatching(/^Left a recording \(\d+ s\)$/),
      'Dialled: answered (agent1)',
    ]);
    expect(await flow.innerText()).toMatch(/flow over/);
    await context.close();
  });
});
