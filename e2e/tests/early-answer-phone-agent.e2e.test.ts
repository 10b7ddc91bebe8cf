/**
 * Audio at the answer (`media.earlyAnswer: auto`) when the queue's agent is a
 * telephone number whose network plays early media: the gateway answers the
 * browser in a 180 with SDP as the number is dialled (PCMU, offered to the
 * trunk alone), and when the carrier's 183 with SDP comes (sipp streaming a
 * 1 kHz tone, never answering) that tone reaches the page: the 180 becomes a
 * 183 with the same SDP and the legs are bridged. Before, the carrier's early
 * media was dropped for a caller the gateway had answered: the page heard
 * nothing until an answer. (Without early answer the browser is answered in
 * the carrier's 183 instead: phone-agent-early.e2e.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortAllocator, stopAll, until, type PortBlock } from '@parley/testkit';
import { carrierTrunk, phoneAgent } from '@parley/gateway/carrier';
import {
  clickCall,
  remotePitch,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';
import { carrierSipp } from '../src/carrier-sipp.js';

/** ada's carrier is sipp on CALLEE. */
const CALLEE = '127.0.0.3';
const NUMBER = '+14155550140';

const ports = new PortAllocator();
let block: PortBlock;
let world: WidgetWorld;

beforeAll(async () => {
  block = await ports.allocate(1, { protocols: ['udp'] });
  world = await startWidgetWorld({
    ringTimeoutSeconds: 40,
    mediaExtra: { earlyAnswer: 'auto' },
    config: {
      trunks: { out: carrierTrunk({ host: CALLEE, port: block.base }) },
      agents: [phoneAgent('ada', NUMBER, 'out')],
    },
  });
});

afterAll(async () => {
  await world?.close();
  block?.release();
  await stopAll();
});

describe('early answer, an agent whose number plays early media', () => {
  it("answers the browser in a 180 with SDP, then the carrier's tone reaches the page in a 183", async () => {
    const sipp = await carrierSipp('uas-carrier-early-tone-no-answer', CALLEE, block.base);
    const { page } = await world.newPage();
    // The SIP responses the page's WebSocket received: status line and whether it carried SDP.
    const responses: string[] = [];
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        const text = String(payload);
        const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
        if (status && /CSeq:\s*\d+ INVITE/i.test(text))
          responses.push(
            `${status}${/content-type:\s*application\/sdp/i.test(text) ? '+sdp' : ''}`,
          );
      }),
    );
    await page.goto(`${world.siteOrigin}/`);
    await clickCall(page);

    // The carrier's tone, at its pitch (an FFT bin is about 6 Hz wide), before any answer.
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(980);
    expect(await remotePitch(page)).toBeLessThan(1020);
    const early = responses.filter((r) => r !== '100');
    expect(early[0]).toBe('180+sdp');
    expect(early).toContain('183+sdp');
    expect(early).not.toContain('200+sdp');
    // The trunk was offered the early answer's codec alone.
    expect(sipp.messages()).toMatch(/^m=audio \d+ RTP\/AVP 0( 101)?\r?$/m);

    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('ended');
    await world.gw.callsEnded();
    await until(() => /^CANCEL /m.test(sipp.messages()) || undefined, 'the CANCEL at the number');
    await sipp.stop();
  });
});
