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
 * With `media.earlyAnswer` off; with it on: early-answer-phone-agent.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PortAllocator,
  startBaresipAgent,
  stopAll,
  until,
  type BaresipAgent,
  type PortBlock,
} from '@parley/testkit';
import { CARRIER, carrierTrunk, phoneAgent } from '@parley/gateway/carrier';
import {
  callFromSite,
  remotePitch,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';
import { carrierSipp } from '../src/carrier-sipp.js';

/** ada's carrier is sipp on CALLEE; bob's phone is on the carrier side (CARRIER). */
const CALLEE = '127.0.0.3';
const NUMBER = '+14155550140';
/** The second agent's number: a baresip phone on the carrier side (127.0.0.2). */
const BOB = '+14155550141';

const ports = new PortAllocator();
let block: PortBlock;
let world: WidgetWorld;
let bob: BaresipAgent;

beforeAll(async () => {
  block = await ports.allocate(1, { protocols: ['udp'] });
  bob = await startBaresipAgent({ user: BOB, address: CARRIER, toneHz: 800, name: 'bob' });
  world = await startWidgetWorld({
    // Rings past the tone's poll (15 s, a loaded machine's call set-up): the visitor hangs up first.
    ringTimeoutSeconds: 40,
    // The browser answered in the carrier's 183, with its codec (PCMA here): early answer off
    // (with it on, early-answer-phone-agent.e2e.test.ts).
    mediaExtra: { earlyAnswer: 'off' },
    config: {
      trunks: {
        out: carrierTrunk({ host: CALLEE, port: block.base }),
        line: carrierTrunk({ port: bob.listenPort }),
      },
      // Rung one after the other, ada first (created first, then by id).
      agents: [phoneAgent('ada', NUMBER, 'out'), phoneAgent('bob', BOB, 'line')],
    },
  });
});

afterAll(async () => {
  await bob?.stop();
  await world?.close();
  block?.release();
  await stopAll();
});

describe('a browser visitor whose agent is a number that plays early media', () => {
  it("hears the carrier's tone while the number rings; hanging up CANCELs the number", async () => {
    const sipp = await carrierSipp('uas-carrier-early-tone-no-answer', CALLEE, block.base);
    const page = await callFromSite(world);

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

  it('an agent after one whose early media answered the browser is offered that codec alone, and takes the call', async () => {
    // ada's network plays its tone in PCMA, then says busy: the browser was answered in PCMA.
    const sipp = await carrierSipp('uas-carrier-early-tone-pcma-busy', CALLEE, block.base);
    const invitesBefore = bob.receivedRequests('INVITE').length;
    const page = await callFromSite(world);
    // bob answers at once (a baresip phone): the visitor is in the call and hears its 800 Hz.
    await expect.poll(() => states(page), { timeout: 30_000 }).toContain('in-call');
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(780);
    expect(await remotePitch(page)).toBeLessThan(820);
    const [invite, ...more] = bob.receivedRequests('INVITE').slice(invitesBefore);
    expect(more).toEqual([]);
    // Offered PCMA alone: werift answered the browser once, in ada's 183.
    expect(invite?.body).toMatch(/^m=audio \d+ RTP\/AVP 8( 101)?\r?$/m);

    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await world.gw.callsEnded();
    await sipp.stop();
    const { body } = await world.gw.api<{
      calls: { outcome: string; agentId: string; attempts: { agentId: string; via?: string }[] }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({ outcome: 'answered', agentId: 'bob' });
    expect(body.calls[0]!.attempts.map((a) => a.agentId)).toEqual(['ada', 'bob']);
  });
  it('an agent whose number is busy right after its early 183 (the leg gone while the browser is answered early) is passed over: the next agent takes the call', async () => {
    // ada's network opens PCMA early media and says busy at once: the leg is gone while the
    // gateway answers the browser in that 183. It must not be bridged (nor throw); bob answers.
    const sipp = await carrierSipp('uas-carrier-early-pcma-busy-now', CALLEE, block.base);
    const page = await callFromSite(world);
    await expect.poll(() => states(page), { timeout: 30_000 }).toContain('in-call');
    await expect.poll(() => remotePitch(page), { timeout: 15_000 }).toBeGreaterThan(780);
    expect(await remotePitch(page)).toBeLessThan(820);
    expect(sipp.messages()).toMatch(/^ACK sip:/m);

    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await world.gw.callsEnded();
    await sipp.stop();
    const { body } = await world.gw.api<{
      calls: { outcome: string; agentId: string; attempts: { agentId: string }[] }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({ outcome: 'answered', agentId: 'bob' });
    expect(body.calls[0]!.attempts.map((a) => a.agentId)).toEqual(['ada', 'bob']);
  });
});
