/**
 * The gateway's WebRTC leg with a real Chromium peer connection (a hand-written
 * SIP UA in the page, no sip.js) and a baresip agent: audio both ways, the data
 * channel, DTMF as RFC 4733, hang-up both ways. With `media.earlyAnswer` off:
 * the call path where the browser is answered at the agent's 200, in Opus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { launchChromium } from '@parley/testkit/chromium';
import { API_KEY, startTestGateway, type TestGateway } from '@parley/gateway/test-harness';
import { RAW_SIP_PAGE, RAW_SIP_SCRIPT } from '../src/raw-sip-page.js';
import { servePages, type PageServer } from '../src/page-server.js';
import { expectAgentHeardFakeMicrophone, fakeMicrophone } from '../src/widget-fixture.js';

let gw: TestGateway;
let agent: BaresipAgent;
let browser: Browser;
let pages: PageServer;

beforeAll(async () => {
  const mic = await fakeMicrophone();
  pages = await servePages({
    '/': { type: 'text/html', body: RAW_SIP_PAGE },
    '/raw-sip.js': { type: 'text/javascript', body: RAW_SIP_SCRIPT },
  });
  // Early answer off: the browser is answered at the agent's 200 with the agent's
  // codec, Opus end to end (with it on, a SIP phone is offered PCMU alone).
  gw = await startTestGateway({ agents: [{ id: 'agent1' }], mediaExtra: { earlyAnswer: 'off' } });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: gw.udp,
    codecs: ['opus/48000/2'],
  });
  await agent.registered();
  browser = await launchChromium({ fakeAudioCapture: mic });
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  await gw?.close();
  await pages?.close();
  await stopAll();
});

async function openCall(): Promise<Page> {
  const token = await gw.token({ origin: pages.origin, subject: 'browser-session' });
  const page = await browser.newPage();
  const params = new URLSearchParams({
    ws: gw.gateway.sip.ws,
    token,
    queue: 'sales',
    domain: 'parley.test',
  });
  await page.goto(`${pages.origin}/?${params}`);
  await page.waitForFunction(
    () =>
      (window as unknown as { parley: { answered: boolean; error: string | null; ended: boolean } })
        .parley.answered ||
      (window as unknown as { parley: { error: string | null } }).parley.error ||
      (window as unknown as { parley: { ended: boolean } }).parley.ended,
    undefined,
    { timeout: 15_000 },
  );
  const state = await page.evaluate(() => {
    const p = (
      window as unknown as {
        parley: { answered: boolean; error: string | null; responses: unknown[] };
      }
    ).parley;
    return { answered: p.answered, error: p.error, responses: p.responses };
  });
  expect(state, JSON.stringify(state)).toMatchObject({ answered: true, error: null });
  return page;
}

describe('WebRTC leg', () => {
  it('bridges a browser call to the agent: audio both ways, data channel, DTMF, BYE', async () => {
    const mark = agent.sipMessages().length;
    const page = await openCall();
    // Audio from the agent reaches the browser.
    const inbound = () =>
      page.evaluate(() =>
        (
          window as unknown as {
            inboundAudio: () => Promise<{ packets: number; energy: number; mime: string } | null>;
          }
        ).inboundAudio(),
      );
    await expect
      .poll(async () => (await inbound())?.packets ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(50);
    expect(await inbound()).toMatchObject({ mime: 'audio/opus' });
    expect((await inbound())?.energy).toBeGreaterThan(0);

    // The data channel opens and a message goes both ways through the agent-side API.
    await page.waitForFunction(
      () => (window as unknown as { parley: { channelOpen: boolean } }).parley.channelOpen,
      undefined,
      { timeout: 5000 },
    );
    const { body: calls } = await gw.api<{ calls: { id: string }[] }>('/v1/calls?limit=1');
    const callId = calls.calls[0]!.id;
    const ws = new WebSocket(
      `${gw.gateway.httpUrl.replace('http', 'ws')}/v1/calls/${callId}/messages`,
      { headers: { authorization: `Bearer ${API_KEY}` } },
    );
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    await page.evaluate(() =>
      (window as unknown as { parley: { channel: RTCDataChannel } }).parley.channel.send(
        JSON.stringify({
          type: 'chat',
          id: 'm1',
          at: new Date().toISOString(),
          text: 'hello from the page',
        }),
      ),
    );
    await expect
      .poll(() => frames.some((f) => f.includes('hello from the page')), { timeout: 5000 })
      .toBe(true);
    ws.send(
      JSON.stringify({
        type: 'chat',
        id: 'a1',
        at: new Date().toISOString(),
        text: 'hello from the agent',
      }),
    );
    await page.waitForFunction(
      () =>
        (window as unknown as { parley: { received: string[] } }).parley.received.some((m) =>
          m.includes('hello from the agent'),
        ),
      undefined,
      { timeout: 5000 },
    );
    await expect
      .poll(() => frames.some((f) => f.includes('"type":"ack"') && f.includes('"delivered":true')))
      .toBe(true);

    // DTMF from the page (INFO) reaches the agent as RFC 4733 events.
    const dtmfMark = agent.mark();
    await page.evaluate(() =>
      (window as unknown as { sendInfo: (d: string) => void }).sendInfo('5'),
    );
    const dtmf = await agent.waitForEvent('CALL_DTMF_START', undefined, 5000, { since: dtmfMark });
    expect(JSON.stringify(dtmf)).toContain('5');

    await page.waitForTimeout(1500);
    await page.evaluate(() => (window as unknown as { hangup: () => void }).hangup());
    await agent.waitForRequest('BYE', undefined, 5000, { since: mark });
    ws.close();

    // The agent heard the browser's 700 Hz microphone.
    await expectAgentHeardFakeMicrophone(agent);

    const { body: record } = await gw.api<{
      outcome: string;
      endedBy: string;
      messages: { from: string; message: { text: string } }[];
    }>(`/v1/calls/${callId}`);
    expect(record).toMatchObject({ outcome: 'answered', endedBy: 'visitor' });
    expect(record.messages.map((m) => [m.from, m.message.text])).toEqual([
      ['visitor', 'hello from the page'],
      ['agent', 'hello from the agent'],
    ]);
    await page.close();
  });
});
