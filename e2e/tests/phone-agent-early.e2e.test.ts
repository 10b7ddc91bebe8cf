/**
 * A browser visitor whose queue's agent is a telephone number (`agents[].phone`)
 * whose network plays early media (issue 10: calls out through a trunk "pass
 * early media (183) to the caller"): sipp as the carrier answers the trunk's
 * INVITE 183 with SDP and streams a 1 kHz tone, and never answers. The
 * widget's call must carry that tone at its pitch while the number rings
 * (the gateway answers the browser in a 183 with the codec of the carrier's
 * early SDP): there is no answer, so whatever the page hears was early media.
 * The visitor hangs up: the number gets the CANCEL. (A SIP visitor's 183 and
 * the tone before its 200: gateway/test/phone-agent-early.sipp.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PortAllocator,
  bundledScenario,
  startSipp,
  stopAll,
  until,
  type PortBlock,
} from '@parley/testkit';
import { TENANT } from '@parley/gateway/test-harness';
import {
  clickCall,
  remotePitch,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';

const CALLEE = '127.0.0.3';
const NUMBER = '+14155550140';

const ports = new PortAllocator();
let block: PortBlock;
let world: WidgetWorld;

beforeAll(async () => {
  block = await ports.allocate(1, { protocols: ['udp'] });
  world = await startWidgetWorld({
    // Rings past the tone's poll (15 s, a loaded machine's call set-up): the visitor hangs up first.
    ringTimeoutSeconds: 40,
    config: {
      trunks: {
        out: {
          peers: [{ host: CALLEE, port: block.base }],
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'US',
        },
      },
      agents: [
        {
          id: 'ada',
          tenant: TENANT,
          password: 'secret',
          queues: ['sales'],
          phone: NUMBER,
          trunk: 'out',
        },
      ],
    },
  });
});

afterAll(async () => {
  await world?.close();
  block?.release();
  await stopAll();
});

describe('a browser visitor whose agent is a number that plays early media', () => {
  it("hears the carrier's tone while the number rings; hanging up CANCELs the number", async () => {
    const sipp = await startSipp({
      scenario: await bundledScenario('uas-carrier-early-tone-no-answer'),
      address: CALLEE,
      localPort: block.base,
      traceMessages: true,
    });
    const { page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    await clickCall(page);

    // The carrier's tone, at its pitch (an FFT bin is about 6 Hz wide), before any answer.
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(980);
    const pitch = await remotePitch(page);
    expect(pitch).toBeGreaterThan(980);
    expect(pitch).toBeLessThan(1020);
    expect(sipp.messages()).not.toMatch(/^CANCEL /m);

    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('ended');
    await world.gw.callsEnded();
    await until(() => /^CANCEL /m.test(sipp.messages()) || undefined, 'the CANCEL at the number');
    const result = await sipp.stop();
    expect(result.messages).toMatch(/^CANCEL sip:\+14155550140@/m);

    const { body } = await world.gw.api<{
      calls: { queue: string; outcome: string; attempts: { agentId: string; via?: string }[] }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({ queue: 'sales', outcome: 'cancelled' });
    expect(body.calls[0]!.attempts).toEqual([
      expect.objectContaining({ agentId: 'ada', via: 'trunk:out' }),
    ]);
  });
});
