/**
 * A visitor who closes the tab or leaves the page mid-call (Debian's Chromium,
 * a real gateway, a baresip agent): the widget hangs up on `pagehide`
 * (`widget/src/client/page-hide.ts`), a BYE once answered and a CANCEL while
 * it rings, sent over the page's WebSocket before the page goes. Without it
 * the gateway sees only a dropped WebSocket and holds the call for
 * `visitors.reconnectGraceSeconds` (60 s here), the agent listening to
 * silence: the agent must get the request well before that, and the call's
 * record say the visitor ended it. A network cut, not a page leaving, is
 * still held (`reconnect.e2e.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { clickCall, startWidgetWorld, states, type WidgetWorld } from '../src/widget-fixture.js';

/** The grace a dropped WebSocket would get: long, so that only a hangup explains a prompt end. */
const GRACE_SECONDS = 60;
/** The agent's request must come this soon after the page went (a fraction of the grace). */
const PROMPTLY_MS = 10_000;

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    config: { visitors: { reconnectGraceSeconds: GRACE_SECONDS } },
  });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs: ['PCMU', 'PCMA'],
    answerMode: 'manual',
  });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

interface CallRecord {
  readonly id: string;
  readonly outcome: string;
  readonly endedBy?: string;
  readonly reason?: string;
  readonly endedAt?: string | null;
}

/** The gateway's newest call record. */
async function lastCall(): Promise<CallRecord | undefined> {
  const { body } = await world.gw.api<{ calls: CallRecord[] }>('/v1/calls?limit=1');
  return body.calls[0];
}

/** A page whose visitor called; resolves when the agent's phone rings (`answer`: and it answered). */
async function callFromPage(answer: boolean): Promise<{ page: Page; mark: number }> {
  const { page } = await world.newPage();
  await page.goto(`${world.siteOrigin}/`);
  const mark = agent.sipMessages().length;
  await clickCall(page);
  await agent.waitForRequest('INVITE', undefined, 15_000, { since: mark });
  await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ringing');
  if (answer) {
    await agent.accept();
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('in-call');
  }
  return { page, mark };
}

/** Waits for `method` at the agent after `since`; returns how long it took. */
async function agentGets(method: string, since: number): Promise<number> {
  const started = Date.now();
  await agent.waitForRequest(method, undefined, PROMPTLY_MS, { since });
  return Date.now() - started;
}

describe('the visitor leaves the page mid-call', () => {
  it('closing the tab hangs up: the agent gets a BYE at once, not after the grace, and the record says the visitor ended it', async () => {
    const { page, mark } = await callFromPage(true);
    const context = page.context();
    const after = agent.sipMessages().length;
    await page.close({ runBeforeUnload: true });
    const took = await agentGets('BYE', after);
    expect(took).toBeLessThan(PROMPTLY_MS);
    await expect
      .poll(lastCall, { timeout: 5000 })
      .toMatchObject({ outcome: 'answered', endedBy: 'visitor', reason: 'normal_clearing' });
    expect(
      agent
        .sipMessages()
        .slice(mark)
        .filter((m) => m.method === 'BYE'),
    ).toHaveLength(1);
    await context.close();
  });

  it('navigating away hangs up the same way', async () => {
    const { page } = await callFromPage(true);
    const after = agent.sipMessages().length;
    await page.goto('about:blank');
    expect(await agentGets('BYE', after)).toBeLessThan(PROMPTLY_MS);
    await expect
      .poll(lastCall, { timeout: 5000 })
      .toMatchObject({ outcome: 'answered', endedBy: 'visitor', reason: 'normal_clearing' });
    await page.context().close();
  });

  it('closing the tab while the agent rings cancels the call: a CANCEL, not a ring until the grace', async () => {
    const { page } = await callFromPage(false);
    const context = page.context();
    const after = agent.sipMessages().length;
    await page.close({ runBeforeUnload: true });
    expect(await agentGets('CANCEL', after)).toBeLessThan(PROMPTLY_MS);
    // The widget's CANCEL (a page that only dropped its WebSocket ends as `visitor_gone`).
    await expect
      .poll(lastCall, { timeout: 5000 })
      .toMatchObject({ outcome: 'cancelled', endedBy: 'visitor', reason: 'cancelled' });
    await context.close();
  });
});
