/**
 * What the reconnect e2e tests check, direct to a gateway or through Kamailio:
 * the SIP the page exchanged over its WebSockets, audio both ways by tone, the
 * call's record and the gateway's metrics.
 */
import type { Page, WebSocket as PageSocket } from 'playwright-core';
import { expect } from 'vitest';
import { analyseTail, type BaresipAgent } from '@parley/testkit';
import { clickCall, inboundAudio, states, type WidgetWorld } from './widget-fixture.js';

/** The SIP messages the page sent and received over its WebSockets, in order. */
export function sipFrames(page: Page): { sent: string[]; received: string[] } {
  const frames = { sent: [] as string[], received: [] as string[] };
  page.on('websocket', (socket: PageSocket) => {
    socket.on('framesent', ({ payload }) => frames.sent.push(String(payload)));
    socket.on('framereceived', ({ payload }) => frames.received.push(String(payload)));
  });
  return frames;
}

/** A header's first value in a SIP message's text. */
export function header(message: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(message);
  return match?.[1]?.trim();
}

/** Every value of a header (each line, then each comma-separated entry). */
export function headers(message: string, name: string): string[] {
  return [...message.matchAll(new RegExp(`^${name}:\\s*(.*)$`, 'gim'))].flatMap((m) =>
    (m[1] ?? '').split(/,(?=\s*<)/).map((v) => v.trim()),
  );
}

/** The page keeps hearing the agent: its inbound audio energy grows from now on. */
export async function pageHearsAgent(page: Page): Promise<void> {
  const before = (await inboundAudio(page)).energy;
  await expect
    .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
    .toBeGreaterThan(before + 0.01);
}

/** The agent's recording ends with the page's 700 Hz tone (call this once it hung up). */
export async function agentHeardPage(agent: BaresipAgent): Promise<void> {
  const recording = agent.lastRecording().received;
  expect(recording, 'the agent recorded nothing').toBeDefined();
  const tail = await analyseTail(recording ?? '', 2);
  expect(tail.rms).toBeGreaterThan(0.02);
  expect(Math.abs(tail.roughFrequencyHz - 700)).toBeLessThan(60);
}

/** Hangs up from the page; the agent's recording ends with the page's 700 Hz tone. */
export async function hangUpAndCheckAgentHeardPage(
  page: Page,
  agent: BaresipAgent,
  mark: number,
): Promise<void> {
  // Two seconds of call after the event, for the tail of the recording.
  await page.waitForTimeout(2500);
  await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
  await agent.waitForRequest('BYE', undefined, 10_000, { since: mark });
  await expect.poll(() => states(page)).toContain('ended');
  await agentHeardPage(agent);
}

/** The gateway's last call record. */
export async function lastCall(world: WidgetWorld) {
  const { body } = await world.gw.api<{
    calls: { id: string; outcome: string; endedBy: string; reason: string }[];
  }>('/v1/calls?limit=1');
  return body.calls[0]!;
}

/**
 * A metric's value now, from the gateway's own registry: a counter by its
 * labels, or one series of a histogram (`series`: `<name>_count`, `<name>_sum`).
 */
export async function metricValue(
  world: WidgetWorld,
  name: string,
  labels: Record<string, string> = {},
  series = name,
): Promise<number> {
  const metric = await world.gw.gateway.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => ((v as { metricName?: string }).metricName ?? name) === series)
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A 200 OK to an INVITE, in a message's text. */
export const isInviteOk = (f: string): boolean =>
  /^SIP\/2\.0 200/.test(f) && /CSeq:\s*\d+ INVITE/i.test(f);

/**
 * A call from a new page whose widget reaches the gateway at `gatewayUrl` (a
 * cuttable relay, in front of the gateway or of Kamailio), answered by `agent`,
 * with the agent heard: the page, its SIP frames, the agent's SIP mark, the
 * INVITE sent and its 200.
 */
export async function callThrough(world: WidgetWorld, gatewayUrl: string, agent: BaresipAgent) {
  const { context, page } = await world.newPage();
  const frames = sipFrames(page);
  await page.goto(`${world.siteOrigin}/`);
  await page.evaluate(
    (url) => document.querySelector('parley-call')!.setAttribute('gateway', url),
    gatewayUrl,
  );
  const mark = agent.sipMessages().length;
  await clickCall(page);
  await expect.poll(() => states(page), { timeout: 15_000 }).toContain('in-call');
  await expect
    .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
    .toBeGreaterThan(0.001);
  const invite = frames.sent.find((f) => f.startsWith('INVITE '))!;
  const ok = frames.received.find(isInviteOk)!;
  return { context, page, frames, mark, invite, ok };
}

/**
 * A stranger's re-INVITE into the page's dialog (built from the page's INVITE
 * and its 200) carrying `key`, over the stranger's own WebSocket; `routes`
 * when a proxy record-routed the dialog.
 */
export function strangerReinvite(
  invite: string,
  ok: string,
  key: string | undefined,
  options: { readonly transport: 'WS' | 'WSS'; readonly routes?: readonly string[] },
): string {
  const cseq = Number((header(invite, 'CSeq') ?? '1').split(/\s+/)[0]) + 10;
  return [
    `INVITE ${/<([^>]+)>/.exec(header(ok, 'Contact') ?? '')?.[1] ?? 'sip:parley@127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/${options.transport} stranger.invalid;branch=z9hG4bK-stranger-${Date.now()}`,
    'Max-Forwards: 70',
    ...(options.routes ?? []).map((r) => `Route: ${r}`),
    `From: ${header(invite, 'From')}`,
    `To: ${header(ok, 'To')}`,
    `Call-ID: ${header(invite, 'Call-ID')}`,
    `CSeq: ${cseq} INVITE`,
    'Contact: <sip:stranger@stranger.invalid;transport=ws>',
    `X-Parley-Rebind: ${key}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
