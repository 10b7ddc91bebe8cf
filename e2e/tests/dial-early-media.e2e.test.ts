/**
 * A browser visitor's flow dials a phone number through a trunk whose
 * network plays an announcement and never connects (issue 10: outbound
 * calls "pass early media (183) to the caller"), or a SIP URI whose peer
 * does the same: the visitor's queue is closed and its `flows.closed` dials
 * the target; sipp as the carrier (or the SIP peer) answers 183 with SDP and
 * streams a 1 kHz tone, then waits for the CANCEL.
 * The widget's call (answered by the gateway when the dial starts) must
 * carry that tone at its pitch while the number rings: there is no answer,
 * so whatever the page hears of it was early media. Then the dial's timeout
 * CANCELs the number and the flow hangs up. (A SIP caller's 183 and the
 * tone before its 200: gateway/test/dial-phone-early.sipp.test.ts.)
 * The number is dialled with `media.earlyAnswer: auto` (the browser answered
 * in a 180 with SDP before the queue is found closed: the page heard nothing
 * of the tone until the dial answered it too), the SIP URI with it off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '@parley/shared/protocol';
import { carrierTrunk } from '@parley/gateway/carrier';
import { PortAllocator, stopAll, type PortBlock } from '@parley/testkit';
import {
  callFromSite,
  remotePitch,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';
import { carrierSipp } from '../src/carrier-sipp.js';

const CALLEE = '127.0.0.3';
const NUMBER = '+14155550100';
/** A schedule with no opening hours: closed whenever the test runs. */
const NEVER_OPEN = { timeZone: 'UTC', weekly: {} };
/**
 * The dial's ring timeout (s): the tone plays this long, then the CANCEL. Well past the
 * tone's poll (15 s, a loaded machine's call set-up), so the CANCEL never comes first.
 */
const RING_SECONDS = 25;

const ports = new PortAllocator();

/** What the flow dials: a number through the trunk to sipp, or sipp's SIP URI directly. */
const TARGETS = {
  phone: () => ({ type: 'phone', number: NUMBER, trunk: 'out' }) as const,
  sip: (port: number) => ({ type: 'sip', uri: `sip:${NUMBER}@${CALLEE}:${port}` }) as const,
};

describe.each(['phone', 'sip'] as const)(
  'a browser visitor whose flow dials a %s target that plays early media',
  (kind) => {
    let block: PortBlock;
    let world: WidgetWorld;

    beforeAll(async () => {
      block = await ports.allocate(1, { protocols: ['udp'] });
      world = await startWidgetWorld({
        agents: [{ id: 'agent1' }],
        // Both ways of reaching the dial: the browser answered early in a 180 (the number),
        // and not (the SIP URI); with the early answer the dial must still answer it (200).
        mediaExtra: { earlyAnswer: kind === 'phone' ? 'auto' : 'off' },
        queueExtra: { businessHours: NEVER_OPEN, flows: { closed: 'to-target' } },
        config: {
          flows: {
            'to-target': [
              {
                verb: 'dial',
                target: kind === 'phone' ? TARGETS.phone() : TARGETS.sip(block.base),
                callerId: '+14155550111',
                timeout: RING_SECONDS,
              },
              { verb: 'hangup' },
            ],
          },
          trunks: {
            out: carrierTrunk({ host: CALLEE, port: block.base }),
          },
        },
      });
    });

    afterAll(async () => {
      await world?.close();
      block?.release();
      await stopAll();
    });

    it('hears the tone while the target rings, then the CANCEL ends the dial', async () => {
      const sipp = await carrierSipp('uas-carrier-early-tone-no-answer', CALLEE, block.base);
      const page = await callFromSite(world);

      // The tone, at its pitch (an FFT bin is about 6 Hz wide), before any answer.
      await expect
        .poll(() => remotePitch(page), { timeout: (RING_SECONDS - 10) * 1000 })
        .toBeGreaterThan(980);
      const pitch = await remotePitch(page);
      expect(pitch).toBeGreaterThan(980);
      expect(pitch).toBeLessThan(1020);
      expect(sipp.messages()).not.toMatch(/^CANCEL /m);

      // The target never answers: the dial's timeout CANCELs it and the flow hangs up.
      await expect
        .poll(() => states(page), { timeout: (RING_SECONDS + 15) * 1000 })
        .toContain('ended');
      await world.gw.callsEnded();
      const result = await sipp.stop();
      expect(result.messages).toMatch(/^CANCEL sip:\+14155550100@/m);

      const { body } = await world.gw.api<{ calls: { id: string; queue: string }[] }>(
        '/v1/calls?limit=1',
      );
      const call = body.calls[0]!;
      expect(call.queue).toBe('sales');
      const dial = (await world.gw.gateway.telephony.events.list(call.id)).find(
        (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
          e.type === 'verb.result' && e.verb === 'dial',
      );
      expect(dial?.result).toMatchObject({ status: 'no-answer' });
    });
  },
);
