/**
 * Audio at the answer (`media.earlyAnswer: auto`) when a queue's first phone
 * agent's network plays early media and then fails, and the next agent's
 * network plays its own: the browser, answered in a 180 with SDP, hears the
 * first carrier's tone (its 183), and after that carrier's 486 it must hear
 * the second carrier's tone while the second number rings. Before def4277 the
 * second agent's early media was never bridged once the first's had been, and
 * the visitor heard silence for the rest of the ringing (the unit test of that
 * is gateway/src/calls/gateway-answer.test.ts; this is the real-peer one: sipp
 * as both carriers, Chromium with the widget).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortAllocator, stopAll, until, type PortBlock } from '@parley/testkit';
import { carrierTrunk, phoneAgent } from '@parley/gateway/carrier';
import {
  callFromSite,
  remotePitch,
  startWidgetWorld,
  type WidgetWorld,
} from '../src/widget-fixture.js';
import { carrierSipp } from '../src/carrier-sipp.js';

/** Both carriers are sipp on CALLEE, each on its own port (its own trunk). */
const CALLEE = '127.0.0.3';
const FIRST = '+14155550141';
const SECOND = '+14155550142';

const ports = new PortAllocator();
let block: PortBlock;
let world: WidgetWorld;

beforeAll(async () => {
  block = await ports.allocate(2, { protocols: ['udp'] });
  world = await startWidgetWorld({
    ringTimeoutSeconds: 40,
    mediaExtra: { earlyAnswer: 'auto' },
    config: {
      trunks: {
        first: carrierTrunk({ host: CALLEE, port: block.base }),
        second: carrierTrunk({ host: CALLEE, port: block.base + 1 }),
      },
      // Ranked by idle time, then id: ada (created first) is rung first.
      agents: [phoneAgent('ada', FIRST, 'first'), phoneAgent('bob', SECOND, 'second')],
    },
  });
});

afterAll(async () => {
  await world?.close();
  block?.release();
  await stopAll();
});

describe('early answer, two phone agents whose numbers play early media', () => {
  it("the page hears the second carrier's tone after the first carrier's 183 and 486", async () => {
    const first = await carrierSipp('uas-carrier-early-tone-busy', CALLEE, block.base);
    const second = await carrierSipp('uas-carrier-early-tone-no-answer', CALLEE, block.base + 1);
    const page = await callFromSite(world);

    // The first carrier's tone, before any answer.
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(980);
    expect(second.messages()).not.toMatch(/^INVITE /m);

    // Its 486 and the gateway's ACK end its call; stopped, sipp sends no more tone.
    await until(
      () =>
        (/^SIP\/2\.0 486 /m.test(first.messages()) && /^ACK /m.test(first.messages())) || undefined,
      "ada's 486 and its ACK",
    );
    await first.stop();
    await until(() => /^SIP\/2\.0 183 /m.test(second.messages()) || undefined, "bob's 183");

    // The second carrier's tone reaches the page while bob's number rings.
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(980);
    expect(await remotePitch(page)).toBeLessThan(1020);
    expect(second.messages()).not.toMatch(/^CANCEL /m);

    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await world.gw.callsEnded();
    await until(
      () => /^CANCEL /m.test(second.messages()) || undefined,
      'the CANCEL at bob’s number',
    );
    await second.stop();
  });
});
