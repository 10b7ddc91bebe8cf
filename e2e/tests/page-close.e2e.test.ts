/**
 * A visitor who closes the tab or leaves the page mid-call (Debian's Chromium,
 * a real gateway, a baresip agent): the widget hangs up on `pagehide`
 * (`widget/src/client/page-hide.ts`), a BYE once answered and a CANCEL while
 * it rings, sent over the page's WebSocket before the page goes: the agent
 * gets it well before the 60 s reconnect grace, and the record says the
 * visitor ended the call. Without it the gateway sees only the WebSocket
 * closing: here, direct, Chromium's close frame (1001) ends the call at once
 * but as `visitor_gone`; behind Kamailio, which does not pass the close code
 * on, the call is held for the grace (`page-close-kamailio.e2e.test.ts`). A
 * network cut, not a page leaving, is still held (`reconnect.e2e.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { PROMPTLY_MS, pageCloseChecks } from '../src/page-close-checks.js';
import { startWidgetWorld, type WidgetWorld } from '../src/widget-fixture.js';

/** The grace a dropped WebSocket would get: long, so that only a hangup explains a prompt end. */
const GRACE_SECONDS = 60;

let world: WidgetWorld;
let agent: BaresipAgent;
let checks: ReturnType<typeof pageCloseChecks>;

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
  checks = pageCloseChecks(world, agent);
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

describe('the visitor leaves the page mid-call', () => {
  it('closing the tab hangs up: the agent gets a BYE at once, not after the grace, and the record says the visitor ended it', async () => {
    const { page } = await checks.callFromPage(true);
    const context = page.context();
    const after = agent.sipMessages().length;
    const byes = agent.receivedRequests('BYE').length;
    await page.close({ runBeforeUnload: true });
    expect(await checks.agentGets('BYE', after)).toBeLessThan(PROMPTLY_MS);
    // The visitor's own BYE: a page that only closed its WebSocket ends as `visitor_gone`.
    await expect
      .poll(checks.lastCall, { timeout: 5000 })
      .toMatchObject({ outcome: 'answered', endedBy: 'visitor', reason: 'normal_clearing' });
    expect(agent.receivedRequests('BYE')).toHaveLength(byes + 1); // one hangup, one BYE
    await context.close();
  });

  it('navigating away hangs up the same way', () => checks.navigatingAwayHangsUp());

  it('closing the tab while the agent rings cancels the call: a CANCEL, not a ring until the grace', () =>
    checks.closingWhileRingingCancels());
});
