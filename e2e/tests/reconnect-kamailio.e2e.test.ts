/**
 * Visitors that survive the network behind Kamailio (issue 16 items 2 and 4,
 * deploy/kamailio/): the page's SIP over WebSocket ends on Kamailio, which
 * names the connection to the gateway (X-Parley-Source `;conn=`), so the
 * gateway mints a rebind key as for a direct browser; the page's WebSocket is
 * cut mid-call (a relay between Chromium and Kamailio resets both sides),
 * Kamailio tells the gateway (an OPTIONS with X-Parley-Closed), the gateway
 * holds the call, and the widget's re-INVITE over its new WebSocket reaches the
 * gateway through Kamailio with the key. Afterwards the re-INVITE's 200 and the
 * agent's BYE reach the page over the new connection, audio flows both ways
 * (by tone at both ends); a stranger's reconnect through Kamailio carrying
 * another call's key is refused 403 `reconnect_refused`; a WebSocket Kamailio
 * closes with a close frame (`kamcmd ws.close`: event_route[websocket:closed],
 * not the reset's tcp:reset) is held and rebound the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredAgent } from '@parley/gateway/test-harness';
import WebSocket from 'ws';
import { startKamailio, stopAll, type BaresipAgent, type Kamailio } from '@parley/testkit';
import { startCuttableRelay, type CuttableRelay } from '../src/cuttable-relay.js';
import {
  agentHeardPage,
  header,
  headers,
  hangUpAndCheckAgentHeardPage,
  lastCall,
  metricValue,
  pageHearsAgent,
  callThrough,
  strangerReinvite,
  isInviteOk,
} from '../src/reconnect-checks.js';
import { startWidgetWorld, states, statusText, type WidgetWorld } from '../src/widget-fixture.js';

const GRACE_SECONDS = 8;
/** Kamailio's address: the gateway trusts its X-Parley-* headers from there only. */
const EDGE = '127.0.0.2';

let world: WidgetWorld;
let agent: BaresipAgent;
let kamailio: Kamailio;
let relay: CuttableRelay;

beforeAll(async () => {
  world = await startWidgetWorld({
    agents: [{ id: 'agent1' }],
    config: { visitors: { reconnectGraceSeconds: GRACE_SECONDS } },
    sipExtra: { edge: { trusted: [EDGE] } },
  });
  agent = await registeredAgent(world.gw);
  kamailio = await startKamailio({ gateways: [world.gw.udp], host: EDGE });
  relay = await startCuttableRelay(Number(new URL(kamailio.wsUrl).port), EDGE);
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await kamailio?.stop();
  await agent?.stop();
  await world?.close();
  await stopAll();
});

const callThroughKamailio = () => callThrough(world, relay.url, agent);

const keysSeen: string[] = [];

describe('widget through Kamailio: the WebSocket drops mid-call', () => {
  it("holds the call, rebinds it over the new WebSocket; the re-INVITE's 200 and the agent's BYE reach the page; audio both ways", async () => {
    const { context, page, frames, mark, ok } = await callThroughKamailio();
    const rebound = () =>
      metricValue(world, 'parley_visitor_reconnects_total', { outcome: 'rebound' });
    const waiting = () =>
      metricValue(world, 'parley_visitor_reconnects_total', { outcome: 'waiting' });
    const gapSum = () =>
      metricValue(
        world,
        'parley_visitor_reconnect_gap_seconds',
        {},
        'parley_visitor_reconnect_gap_seconds_sum',
      );
    const [rebound0, waiting0, gapSum0] = [await rebound(), await waiting(), await gapSum()];
    // Behind Kamailio too, the gateway gave the page a rebind key.
    keysSeen.push(header(ok, 'X-Parley-Rebind') ?? '');
    expect(keysSeen[0]).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const byes = () =>
      agent
        .sipMessages()
        .slice(mark)
        .filter((m) => m.method === 'BYE').length;

    relay.cut();
    await expect.poll(() => statusText(page), { timeout: 10_000 }).toContain('Reconnecting');
    // Kamailio saw the connection go and told the gateway, which waits for the page.
    await expect.poll(waiting, { timeout: 5000 }).toBe(waiting0 + 1);
    await page.waitForTimeout(2000); // the network stays down for 2 s
    relay.restore();
    await expect
      .poll(async () => (await states(page)).slice(-2), { timeout: 15_000 })
      .toEqual(['reconnecting', 'in-call']);
    expect(await rebound()).toBe(rebound0 + 1);
    // The gateway's gap (Kamailio's notice → rebound): at least the 2 s the network was down.
    expect((await gapSum()) - gapSum0).toBeGreaterThanOrEqual(1.9);
    // The re-INVITE went over the new WebSocket and its 200 came back over it.
    expect(frames.sent.filter((f) => f.startsWith('INVITE '))).toHaveLength(2);
    // (Counted by CSeq: a 200 retransmitted until its ACK arrives is one answer.)
    const answered = new Set(frames.received.filter(isInviteOk).map((f) => header(f, 'CSeq')));
    expect(answered.size).toBe(2);
    expect(byes()).toBe(0);

    await pageHearsAgent(page);
    // The agent hangs up: its BYE reaches the page over the new connection.
    await page.waitForTimeout(2500); // two seconds of call after the rebind, for the recording
    await agent.hangup();
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ended');
    expect(frames.received.some((f) => f.startsWith('BYE '))).toBe(true);
    await agentHeardPage(agent);
    expect(await lastCall(world)).toMatchObject({ outcome: 'answered', endedBy: 'agent' });
    await context.close();
  });

  it("refuses a reconnect through Kamailio carrying another call's key (403 reconnect_refused); the call stays with its visitor", async () => {
    const { context, page, mark, invite, ok } = await callThroughKamailio();
    const refused = () =>
      metricValue(world, 'parley_visitor_reconnects_total', { outcome: 'refused' });
    const refused0 = await refused();
    expect(keysSeen[0]).toBeTruthy();
    expect(header(ok, 'X-Parley-Rebind')).not.toBe(keysSeen[0]);
    // A stranger on its own WebSocket to Kamailio, from the right page, knows the
    // dialog (Call-ID, tags, route) and brings the first call's key.
    const stranger = new WebSocket(kamailio.wsUrl, 'sip', {
      headers: { origin: world.siteOrigin },
    });
    const replies: string[] = [];
    stranger.on('message', (data) => replies.push(String(data)));
    await new Promise((resolve, reject) => {
      stranger.once('open', resolve);
      stranger.once('error', reject);
    });
    const routes = headers(ok, 'Record-Route').reverse();
    const reinvite = strangerReinvite(invite, ok, keysSeen[0], { transport: 'WS', routes });
    expect(routes.length).toBeGreaterThan(0);
    stranger.send(reinvite);
    const isFinal = (r: string) => /^SIP\/2\.0 [2-6]\d\d/.test(r);
    await expect.poll(() => replies.find(isFinal), { timeout: 5000 }).toBeDefined();
    const final = replies.find(isFinal)!;
    expect(final).toMatch(/^SIP\/2\.0 403/);
    expect(header(final, 'Reason')).toContain('text="reconnect_refused"');
    expect(await refused()).toBe(refused0 + 1);
    stranger.close();

    expect((await states(page)).at(-1)).toBe('in-call');
    await pageHearsAgent(page);
    await hangUpAndCheckAgentHeardPage(page, agent, mark);
    expect(await lastCall(world)).toMatchObject({ outcome: 'answered', reason: 'normal_clearing' });
    await context.close();
  });

  it("Kamailio closes the page's WebSocket with a close frame (kamcmd ws.close): held and rebound the same", async () => {
    const { context, page, mark } = await callThroughKamailio();
    const count = (outcome: string) =>
      metricValue(world, 'parley_visitor_reconnects_total', { outcome });
    const [waiting0, rebound0] = [await count('waiting'), await count('rebound')];
    // The page's is the only WebSocket open on Kamailio now.
    const ids = [...(await kamailio.rpc('ws.dump')).matchAll(/^\s*(\d+): ws:/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(1);
    await kamailio.rpc('ws.close', ids[0] ?? '');
    await expect.poll(() => count('waiting'), { timeout: 5000 }).toBe(waiting0 + 1);
    await expect
      .poll(async () => (await states(page)).slice(-2), { timeout: 15_000 })
      .toEqual(['reconnecting', 'in-call']);
    expect(await count('rebound')).toBe(rebound0 + 1);
    await pageHearsAgent(page);
    await hangUpAndCheckAgentHeardPage(page, agent, mark);
    expect(await lastCall(world)).toMatchObject({ outcome: 'answered', reason: 'normal_clearing' });
    await context.close();
  });
});
