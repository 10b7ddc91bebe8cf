/**
 * The visitor's click-to-call widget in Debian's Chromium, on the demo company
 * page (real screening and token endpoint), through a real gateway, to a
 * baresip agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { ERROR_CODES } from '@parley/shared/errors';
import { API_KEY, workerRouters } from '@parley/gateway/test-harness';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import {
  PROBE,
  clickCall,
  cspViolations,
  errors,
  expectAgentHeardFakeMicrophone,
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
  agent = await startAgent();
});

/**
 * The agent's phone, registered: G.711 by default, as the gateway's early
 * answer offers a SIP phone PCMU alone (and baresip plays one clock rate).
 */
async function startAgent(codecs = ['PCMU', 'PCMA']): Promise<BaresipAgent> {
  const phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs,
  });
  await phone.registered();
  return phone;
}

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
  it('calls an agent: audio both ways, caller-ID and session to the agent, chat panel both ways, keypad, mute, hang up from the page', async () => {
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
    // Typed into the chat panel, as a visitor does.
    const widget = page.locator('parley-call');
    await widget.locator('[part~="chat-input"]').fill('Hello from the page');
    await widget.locator('[part~="chat-input"]').press('Enter');
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

    expect(await widget.locator('[part~="message"]').allTextContents()).toEqual([
      expect.stringContaining('Hello from the page'),
      expect.stringContaining('Hello from the agent'),
    ]);

    // The keypad: a digit pressed on the page reaches the phone as an RFC 4733 event.
    await widget.getByRole('button', { name: 'Keypad' }).click();
    const dtmfMark = agent.mark();
    await widget.locator('[part~="keypad-button"]', { hasText: '7' }).click();
    const dtmf = await agent.waitForEvent('CALL_DTMF_START', undefined, 5000, { since: dtmfMark });
    expect(JSON.stringify(dtmf)).toContain('7');

    // Mute and unmute; the timer runs.
    const mute = widget.locator('[part~="mute-button"]');
    await mute.click();
    await expect.poll(() => mute.getAttribute('aria-pressed')).toBe('true');
    await mute.click();
    await expect.poll(() => mute.getAttribute('aria-pressed')).toBe('false');
    expect(await widget.locator('[part~="timer"]').textContent()).toMatch(/\d+:\d\d/);

    // The agent's phone holds (a re-INVITE the gateway answers): the widget says so, then resumes.
    await agent.command('hold');
    await expect.poll(() => statusText(page), { timeout: 5000 }).toContain('On hold');
    await agent.command('resume');
    await expect.poll(() => statusText(page), { timeout: 5000 }).toContain('Connected');

    await page.waitForTimeout(1500);
    await widget.getByRole('button', { name: 'Hang up' }).click();
    await agent.waitForRequest('BYE', undefined, 5000, { since: mark });
    await expect.poll(() => states(page)).toContain('ended');

    await expectAgentHeardFakeMicrophone(agent);

    const { body: record } = await world.gw.api<{
      outcome: string;
      endedBy: string;
      sessionNumber: string;
      messages: { from: string; message: { type: string; text?: string; url?: string } }[];
    }>(`/v1/calls/${call.id}`);
    expect(record).toMatchObject({ outcome: 'answered', endedBy: 'visitor' });
    // The number the phone showed is the session's.
    expect(invite.header('from')).toContain(`<sip:${record.sessionNumber}@parley.test>`);
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
    // All of it under the company's strict CSP (no inline script, eval or inline style).
    expect(await cspViolations(page)).toEqual([]);
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

  it('ends both legs and frees the media when the page dies mid-call without a word', async () => {
    const { context, page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    const mark = agent.sipMessages().length;
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
    await expect
      .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.001);
    const closedAt = Date.now();
    // The renderer crashes: no `pagehide`, so no BYE from the widget (that one,
    // a closed tab, is `page-close.e2e.test.ts`); Chromium's network service
    // closes the WebSocket for it, and the gateway alone must end both legs.
    const cdp = await context.newCDPSession(page);
    void cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
    await agent.waitForRequest('BYE', undefined, 10_000, { since: mark });
    await expect.poll(() => world.gw.gateway.media.routerCount, { timeout: 10_000 }).toBe(0);
    // On mediasoup, the worker is left with nothing of the call's (its routers close with the last call).
    await expect.poll(() => workerRouters(world.gw), { timeout: 10_000 }).toBe(0);
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    expect(await lastCall()).toMatchObject({
      outcome: 'answered',
      endedBy: 'visitor',
      reason: 'visitor_gone',
    });
    await context.close();
  });
});

describe('widget: an agent without Opus', () => {
  it('negotiates PCMU with the browser, no transcoding, audio both ways', async () => {
    await agent.stop();
    agent = await startAgent(['PCMU']);
    try {
      const { context, page } = await world.newPage();
      await page.goto(`${world.siteOrigin}/`);
      const mark = agent.sipMessages().length;
      await clickCall(page);
      await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
      const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since: mark });
      expect(invite.body).toMatch(/a=rtpmap:0 PCMU\/8000/);
      await expect
        .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
        .toBeGreaterThan(0.001);
      // The browser itself is sending and receiving PCMU: the gateway only relays.
      const codecs = await page.evaluate(async () => {
        const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1)!;
        const found: string[] = [];
        (await pc.getStats()).forEach((r: { type: string; mimeType?: string }) => {
          if (r.type === 'codec' && r.mimeType) found.push(r.mimeType);
        });
        return found;
      });
      expect(codecs).toContain('audio/PCMU');
      expect(codecs.some((c) => /opus/i.test(c))).toBe(false);
      await page.waitForTimeout(1500);
      await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
      await agent.waitForRequest('BYE', undefined, 5000, { since: mark });
      await expectAgentHeardFakeMicrophone(agent);
      await context.close();
    } finally {
      await agent.stop();
      agent = await startAgent();
    }
  });
});

describe('widget: the network drops mid-call', () => {
  it('tells the visitor the call could not be brought back, and the gateway ends both legs after its grace', async () => {
    // The page reaches the gateway through a TCP relay the test can cut, as a
    // lost network does: the connections die without a WebSocket close frame,
    // and the network stays down (the relay takes no new connection). The
    // widget tries to reconnect for 20 s (its default window); the gateway keeps
    // the call (and the media) for visitors.reconnectGraceSeconds (20 s by
    // default), then ends it.
    // The reconnect that succeeds: e2e/tests/reconnect.e2e.test.ts.
    const sockets = new Set<Socket>();
    const gatewayPort = Number(new URL(world.gw.gateway.httpUrl).port);
    const relay = createServer((down) => {
      const up = connect(gatewayPort, '127.0.0.1');
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayPort = (relay.address() as AddressInfo).port;
    try {
      const { context, page } = await world.newPage();
      await page.goto(`${world.siteOrigin}/`);
      await page.evaluate((url) => {
        const widget = document.querySelector('parley-call')!;
        widget.setAttribute('gateway', url);
      }, `http://127.0.0.1:${relayPort}`);
      const mark = agent.sipMessages().length;
      await clickCall(page);
      await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
      await page.waitForTimeout(500);
      relay.close(); // no new connection gets through
      for (const s of sockets) s.resetAndDestroy();
      await expect.poll(() => states(page), { timeout: 40_000 }).toContain('error');
      expect(await states(page)).toContain('reconnecting');
      expect((await errors(page)).map((e) => e.code)).toContain('reconnect_expired');
      expect(await statusText(page)).toContain(ERROR_CODES.reconnect_expired.human);
      const bye = await agent.waitForRequest('BYE', undefined, 40_000, { since: mark });
      expect(bye.header('reason')).toContain('reconnect_expired');
      await expect.poll(() => world.gw.gateway.media.routerCount, { timeout: 10_000 }).toBe(0);
      expect(await lastCall()).toMatchObject({
        outcome: 'answered',
        endedBy: 'visitor',
        reason: 'reconnect_expired',
      });
      await context.close();
    } finally {
      relay.close();
    }
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

  it("a gateway the page's Content-Security-Policy blocks (no hang in 'connecting')", () =>
    refusal('gateway_unreachable', { attribute: ['gateway', 'ws://localhost:9/sip'] }));

  it('no agent registered', async () => {
    await agent.stop();
    try {
      await refusal('no_agent_available');
    } finally {
      agent = await startAgent();
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
