/**
 * A visitor who closes the tab or leaves the page mid-call, behind Kamailio
 * (deploy/kamailio/): Kamailio's events do not tell the gateway a close
 * frame's code, so a page that only closed its WebSocket is held like a lost
 * network for `visitors.reconnectGraceSeconds` (60 s here), the agent
 * listening to silence. The widget hangs up on `pagehide`
 * (`widget/src/client/page-hide.ts`): the BYE, or the CANCEL while it rings,
 * goes through Kamailio before the page goes, and the agent gets it at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startBaresipAgent,
  startKamailio,
  stopAll,
  type BaresipAgent,
  type Kamailio,
} from '@parley/testkit';
import { startCuttableRelay, type CuttableRelay } from '../src/cuttable-relay.js';
import { PROMPTLY_MS, pageCloseChecks } from '../src/page-close-checks.js';
import { startWidgetWorld, type WidgetWorld } from '../src/widget-fixture.js';

const GRACE_SECONDS = 60;
/** Kamailio's address: the gateway trusts its X-Parley-* headers from there only. */
const EDGE = '127.0.0.2';

let world: WidgetWorld;
let agent: BaresipAgent;
let kamailio: Kamailio;
/** Never cut: it only puts Kamailio's WebSocket on an address the site's CSP allows. */
let relay: CuttableRelay;
let checks: ReturnType<typeof pageCloseChecks>;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    config: { visitors: { reconnectGraceSeconds: GRACE_SECONDS } },
    sipExtra: { edge: { trusted: [EDGE] } },
  });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs: ['PCMU', 'PCMA'],
    answerMode: 'manual',
  });
  await agent.registered();
  kamailio = await startKamailio({ gateways: [world.gw.udp], host: EDGE });
  relay = await startCuttableRelay(Number(new URL(kamailio.wsUrl).port), EDGE);
  checks = pageCloseChecks(world, agent, relay.url);
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await kamailio?.stop();
  await agent?.stop();
  await world?.close();
  await stopAll();
});

describe('through Kamailio, the visitor leaves the page mid-call', () => {
  it('closing the tab hangs up: the agent gets a BYE at once, not after the 60 s grace', async () => {
    const { page } = await checks.callFromPage(true);
    const context = page.context();
    const after = agent.sipMessages().length;
    await page.close({ runBeforeUnload: true });
    expect(await checks.agentGets('BYE', after)).toBeLessThan(PROMPTLY_MS);
    await expect
      .poll(checks.lastCall, { timeout: 5000 })
      .toMatchObject({ outcome: 'answered', endedBy: 'visitor', reason: 'normal_clearing' });
    await context.close();
  });

  it('navigating away hangs up the same way', () => checks.navigatingAwayHangsUp());

  it('closing the tab while the agent rings cancels the call', () =>
    checks.closingWhileRingingCancels());
});
