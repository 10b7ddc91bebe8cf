/**
 * Visitors that survive the network (issue 16 item 4), in Debian's Chromium
 * through a real gateway to a baresip agent: the page's WebSocket is cut
 * mid-call (a relay resets both sides, as a lost network does) and comes back;
 * the page's host moves to another address mid-call, for real in the private
 * network namespace (`../src/page-network.ts`: a new address comes up, the old
 * ones go, the old loopback path is refused), and nothing else tells the page:
 * the widget sees the path dead in its stats and restarts ICE (a re-INVITE with new
 * ICE credentials), the new address carries the media; a stranger's reconnect carrying
 * another call's rebind key is refused; a visitor who does not come back in
 * time has the call ended with the reason on the record. Audio is checked by
 * tone at both ends: the page hears the agent (inbound energy grows after the
 * event), the agent hears the page's 700 Hz microphone (the end of its
 * recording, after the event).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredAgent } from '@parley/gateway/test-harness';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { ERROR_CODES } from '@parley/shared/errors';
import { stopAll, type BaresipAgent } from '@parley/testkit';
import { startCuttableRelay, type CuttableRelay } from '../src/cuttable-relay.js';
import {
  hangUpAndCheckAgentHeardPage as hangUpAndCheck,
  header,
  lastCall as lastCallOf,
  metricValue as metricOf,
  pageHearsAgent,
  callThrough,
  strangerReinvite,
} from '../src/reconnect-checks.js';
import {
  errors,
  startWidgetWorld,
  states,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';
import { movePageNetwork, NEW_PAGE_ADDRESS, pageIce } from '../src/page-network.js';

/** The gateway keeps a dropped visitor's call this long (visitors.reconnectGraceSeconds). */
const GRACE_SECONDS = 8;

let world: WidgetWorld;
let agent: BaresipAgent;
let relay: CuttableRelay;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    config: { visitors: { reconnectGraceSeconds: GRACE_SECONDS } },
  });
  agent = await registeredAgent(world.gw);
  relay = await startCuttableRelay(Number(new URL(world.gw.gateway.httpUrl).port));
});

afterAll(async () => {
  await relay?.close();
  await agent?.stop();
  await world?.close();
  await stopAll();
});

const callThroughRelay = () => callThrough(world, relay.url, agent);

const metricValue = (name: string, labels: Record<string, string> = {}, series = name) =>
  metricOf(world, name, labels, series);
const lastCall = () => lastCallOf(world);
const hangUpAndCheckAgentHeardPage = (page: Page, mark: number) =>
  hangUpAndCheck(page, agent, mark);

/** Rebind keys of calls already made (for the stranger's attempt). */
const keysSeen: string[] = [];

describe('widget: the WebSocket drops mid-call', () => {
  it('shows Reconnecting…, comes back and the call goes on: audio both ways afterwards', async () => {
    const { context, page, mark, ok } = await callThroughRelay();
    const rebound = await metricValue('parley_visitor_reconnects_total', { outcome: 'rebound' });
    const gaps = await metricValue(
      'parley_visitor_reconnect_gap_seconds',
      {},
      'parley_visitor_reconnect_gap_seconds_count',
    );
    const gapSum = await metricValue(
      'parley_visitor_reconnect_gap_seconds',
      {},
      'parley_visitor_reconnect_gap_seconds_sum',
    );
    keysSeen.push(header(ok, 'X-Parley-Rebind') ?? '');
    expect(keysSeen[0]).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const byes = () =>
      agent
        .sipMessages()
        .slice(mark)
        .filter((m) => m.method === 'BYE').length;

    relay.cut(); // the page's and the gateway's sides both see their connection reset
    await expect.poll(() => statusText(page), { timeout: 10_000 }).toContain('Reconnecting');
    await page.waitForTimeout(2000); // the network stays down for 2 s
    relay.restore();
    await expect
      .poll(async () => (await states(page)).slice(-2), { timeout: 15_000 })
      .toEqual(['reconnecting', 'in-call']);
    expect(await statusText(page)).toContain('Connected');
    expect(byes()).toBe(0); // the agent's leg stayed up all along
    // Counted: one rebind, its gap at least the 2 s the network was down.
    expect(await metricValue('parley_visitor_reconnects_total', { outcome: 'rebound' })).toBe(
      rebound + 1,
    );
    expect(
      await metricValue(
        'parley_visitor_reconnect_gap_seconds',
        {},
        'parley_visitor_reconnect_gap_seconds_count',
      ),
    ).toBe(gaps + 1);
    const gap =
      (await metricValue(
        'parley_visitor_reconnect_gap_seconds',
        {},
        'parley_visitor_reconnect_gap_seconds_sum',
      )) - gapSum;
    expect(gap).toBeGreaterThanOrEqual(1.9);

    await pageHearsAgent(page);
    await hangUpAndCheckAgentHeardPage(page, mark);
    expect(await lastCall()).toMatchObject({
      outcome: 'answered',
      endedBy: 'visitor',
      reason: 'normal_clearing',
    });
    await context.close();
  });

  it("refuses a reconnect carrying another call's rebind key (403 reconnect_refused); the call stays with its visitor", async () => {
    const { context, page, mark, invite, ok } = await callThroughRelay();
    const refused = await metricValue('parley_visitor_reconnects_total', { outcome: 'refused' });
    expect(keysSeen[0]).toBeTruthy();
    // A stranger knows this call's dialog (Call-ID, tags) and brings another session's key.
    const stranger = new WebSocket(`${world.gw.gateway.httpUrl.replace('http', 'ws')}/sip`, 'sip', {
      headers: { origin: world.siteOrigin },
    });
    const replies: string[] = [];
    stranger.on('message', (data) => replies.push(String(data)));
    await new Promise((resolve, reject) => {
      stranger.once('open', resolve);
      stranger.once('error', reject);
    });
    const reinvite = strangerReinvite(invite, ok, keysSeen[0], { transport: 'WSS' });
    stranger.send(reinvite);
    await expect
      .poll(() => replies.find((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r)), { timeout: 5000 })
      .toBeDefined();
    const final = replies.find((r) => /^SIP\/2\.0 [2-6]\d\d/.test(r))!;
    expect(final).toMatch(/^SIP\/2\.0 403/);
    expect(header(final, 'Reason')).toContain('text="reconnect_refused"');
    expect(ERROR_CODES.reconnect_refused.sip).toBe(403);
    expect(await metricValue('parley_visitor_reconnects_total', { outcome: 'refused' })).toBe(
      refused + 1,
    );
    stranger.close();

    // The visitor's call is untouched: still in the call, audio both ways.
    expect((await states(page)).at(-1)).toBe('in-call');
    await pageHearsAgent(page);
    await hangUpAndCheckAgentHeardPage(page, mark);
    expect(await lastCall()).toMatchObject({ outcome: 'answered', reason: 'normal_clearing' });
    await context.close();
  });

  it('ends the call with reconnect_expired when the visitor does not come back within the grace', async () => {
    const { context, page, mark } = await callThroughRelay();
    const expired = await metricValue('parley_visitor_reconnects_total', { outcome: 'expired' });
    relay.cut();
    await expect.poll(() => statusText(page), { timeout: 10_000 }).toContain('Reconnecting');
    // The gateway gives up after its grace: the agent gets a BYE with the reason.
    const bye = await agent.waitForRequest('BYE', undefined, (GRACE_SECONDS + 10) * 1000, {
      since: mark,
    });
    expect(bye.header('reason')).toContain('reconnect_expired');
    expect(await metricValue('parley_visitor_reconnects_total', { outcome: 'expired' })).toBe(
      expired + 1,
    );
    expect(await lastCall()).toMatchObject({
      outcome: 'answered',
      endedBy: 'visitor',
      reason: 'reconnect_expired',
    });
    // The page comes back too late: the gateway no longer knows the dialog (481).
    relay.restore();
    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('error');
    expect((await errors(page)).map((e) => e.code)).toContain('reconnect_expired');
    expect(await statusText(page)).toContain(ERROR_CODES.reconnect_expired.human);
    await context.close();
  });
});

describe("widget: the page's network changes", () => {
  it('moves the page to another address: the widget restarts ICE by itself (a re-INVITE with new ICE credentials), the new address carries the media, audio both ways afterwards', async () => {
    const { context, page, frames, mark } = await callThroughRelay();
    const restarts = await metricValue('parley_ice_restarts_total', { result: 'answered' });
    const invites = (): string[] => frames.sent.filter((f) => f.startsWith('INVITE '));
    const ufrag = (invite: string | undefined) => /a=ice-ufrag:(\S+)/.exec(invite ?? '')?.[1];
    const answers = () =>
      frames.received.filter((f) => /^SIP\/2\.0 200/.test(f) && /CSeq:\s*\d+ INVITE/i.test(f));
    expect(invites()).toHaveLength(1);
    const before = await pageIce(page);
    expect(before.selected, 'no selected candidate pair').toBeDefined();
    expect(before.local.map((c) => c.address)).not.toContain(NEW_PAGE_ADDRESS);

    // Every path the page had dies; nothing tells the page but its own network.
    const move = await movePageNetwork(before.local);
    try {
      await expect.poll(() => invites().length, { timeout: 20_000 }).toBe(2);
      expect(ufrag(invites()[1])).toBeDefined();
      expect(ufrag(invites()[1])).not.toBe(ufrag(invites()[0]));
      await expect.poll(() => answers().length, { timeout: 10_000 }).toBe(2);
      expect((await states(page)).at(-1)).toBe('in-call');
      expect(await metricValue('parley_ice_restarts_total', { result: 'answered' })).toBe(
        restarts + 1,
      );
      // The media now goes from the new address.
      await expect
        .poll(async () => (await pageIce(page)).selected?.address, { timeout: 10_000 })
        .toBe(NEW_PAGE_ADDRESS);
      await pageHearsAgent(page);
      await hangUpAndCheckAgentHeardPage(page, mark);
    } finally {
      await move.restore();
    }
    await context.close();
  });
});
