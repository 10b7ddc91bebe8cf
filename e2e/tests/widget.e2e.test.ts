/**
 * The visitor's click-to-call widget in Debian's Chromium, on the demo company
 * page (real screening and token endpoint), through a real gateway, to a
 * baresip agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { ERROR_CODES } from '@parley/shared/errors';
import { API_KEY } from '@parley/gateway/test-harness';
import { analyse, startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import {
  PROBE,
  clickCall,
  errors,
  inboundAudio,
  received,
  startWidgetWorld,
  states,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';

let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  world = await startWidgetWorld({ agents: [{ id: 'agent1' }] });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs: ['opus/48000/2', 'PCMU'],
  });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await stopAll();
});

async function lastCall() {
  const { body } = await world.gw.api<{
    calls: { id: string; outcome: string; endedBy: string; reason: string; sessionId: string }[];
  }>('/v1/calls?limit=1');
  return body.calls[0]!;
}

describe('widget', () => {
  it('calls an agent: audio both ways, caller-ID and session to the agent, data channel both ways, hang up from the page', async () => {
    const { context, page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    const mark = agent.sipMessages().length;
    const started = Date.now();
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    expect(await states(page)).toEqual(
      expect.arrayContaining(['permission', 'connecting', 'in-call']),
    );
    const setupMs = Date.now() - started;

    // What the agent's phone received.
    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since: mark });
    const session = (await context.cookies()).find((c) => c.name === 'demo_sid')?.value;
    expect(invite.header('x-parley-session')).toBe(session);
    expect(invite.header('from')).toMatch(/<sip:\+1555\d{4}@parley\.test>/);
    expect(invite.header('p-asserted-identity')).toMatch(/<sip:\+1555\d{4}@parley\.test>/);

    // The agent's voice reaches the page.
    await expect
      .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.001);

    // A message round trip: page → agent-side API, agent-side API → page; both stored.
    const call = await lastCall();
    const ws = new WebSocket(
      `${world.gw.gateway.httpUrl.replace('http', 'ws')}/v1/calls/${call.id}/messages`,
      { headers: { authorization: `Bearer ${API_KEY}` } },
    );
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    await page.waitForFunction(
      () =>
        document.querySelector('parley-call')?.shadowRoot?.querySelector('[part~="chat-input"]') !==
        null,
    );
    await page.evaluate(() =>
      (
        document.querySelector('parley-call') as unknown as { send(t: string): Promise<unknown> }
      ).send('Hello from the page'),
    );
    await expect
      .poll(() => frames.some((f) => f.includes('Hello from the page')), { timeout: 5000 })
      .toBe(true);
    ws.send(
      JSON.stringify({
        type: 'chat',
        id: 'agent-1',
        at: new Date().toISOString(),
        text: 'Hello from the agent',
      }),
    );
    await expect
      .poll(async () => (await received(page)).map((m) => m.text), { timeout: 5000 })
      .toContain('Hello from the agent');
    ws.close();

    await page.waitForTimeout(1500);
    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await agent.waitForRequest('BYE', undefined, 5000, { since: mark });
    await expect.poll(() => states(page)).toContain('ended');

    const heard = await analyse(agent.lastRecording().received!);
    expect(heard.rms).toBeGreaterThan(0.02);
    expect(Math.abs(heard.roughFrequencyHz - 700)).toBeLessThan(60);

    const { body: record } = await world.gw.api<{
      outcome: string;
      endedBy: string;
      messages: { from: string; message: { type: string; text?: string; url?: string } }[];
    }>(`/v1/calls/${call.id}`);
    expect(record).toMatchObject({ outcome: 'answered', endedBy: 'visitor' });
    // The widget first tells the agent which page the visitor is on, then the chat.
    expect(record.messages[0]?.message).toMatchObject({
      type: 'navigation',
      url: `${world.siteOrigin}/`,
    });
    expect(record.messages.slice(1).map((m) => [m.from, m.message.text])).toEqual([
      ['visitor', 'Hello from the page'],
      ['agent', 'Hello from the agent'],
    ]);
    expect(setupMs).toBeGreaterThan(0);
    await context.close();
  });

  it('shows "ended" when the agent hangs up', async () => {
    const { context, page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    agent.events.once('event', function onEvent(e) {
      if (e.type === 'CALL_ESTABLISHED') setTimeout(() => void agent.hangup(), 1000);
      else agent.events.once('event', onEvent);
    });
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    await expect.poll(() => states(page), { timeout: 10_000 }).toContain('ended');
    expect(await lastCall()).toMatchObject({ outcome: 'answered', endedBy: 'agent' });
    await context.close();
  });

  it('ends both legs and frees the media when the page goes away mid-call', async () => {
    const { context, page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    const mark = agent.sipMessages().length;
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    await page.waitForTimeout(500);
    const closedAt = Date.now();
    await context.close();
    await agent.waitForRequest('BYE', undefined, 10_000, { since: mark });
    await expect.poll(() => world.gw.gateway.media.routerCount, { timeout: 10_000 }).toBe(0);
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    expect(await lastCall()).toMatchObject({
      outcome: 'answered',
      endedBy: 'visitor',
      reason: 'visitor_gone',
    });
  });
});

describe('widget refusals: a message a person understands, and no INVITE to an agent', () => {
  async function refusal(
    code: keyof typeof ERROR_CODES,
    options: {
      /** An attribute of the element to set before the click. */
      attribute?: [string, string];
      /** Another browser (default: the world's). */
      browser?: Browser;
    } = {},
  ) {
    const context = await (options.browser ?? world.browser).newContext();
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    await page.goto(`${world.siteOrigin}/`);
    if (options.attribute) {
      await page.evaluate(
        ([name, value]) => document.querySelector('parley-call')!.setAttribute(name, value),
        options.attribute,
      );
    }
    const mark = agent.sipMessages().length;
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('error');
    expect((await errors(page)).map((e) => e.code)).toContain(code);
    expect(await statusText(page)).toContain(ERROR_CODES[code].human);
    expect(
      agent
        .sipMessages()
        .slice(mark)
        .filter((m) => m.method === 'INVITE'),
    ).toEqual([]);
    await context.close();
  }

  it('a screening refusal (queue closed)', () =>
    refusal('outside_business_hours', { attribute: ['queue', 'holidays'] }));

  it('a token the gateway refuses (expired)', () =>
    refusal('expired', { attribute: ['token-url', '/test/expired-token'] }));

  it('the gateway unreachable', () =>
    refusal('gateway_unreachable', { attribute: ['gateway', 'ws://127.0.0.1:9/sip'] }));

  it('no agent registered', async () => {
    await agent.stop();
    try {
      await refusal('no_agent_available');
    } finally {
      agent = await startBaresipAgent({
        user: 'agent1',
        password: 'secret',
        registrar: world.gw.udp,
        codecs: ['opus/48000/2', 'PCMU'],
      });
      await agent.registered();
    }
  });

  it('the microphone denied', async () => {
    // A browser whose permission prompt answers "Block", as a person would.
    const denying = await launchChromium({ permissions: 'deny' });
    try {
      await refusal('microphone_denied', { browser: denying });
    } finally {
      await denying.close();
    }
  });
});
