/**
 * The agent desk in Chromium as the agent's phone: a visitor calls from the
 * widget on the company page (signed in as a high-value customer), the desk
 * (another page) rings with the session's context and value, the agent answers
 * in the browser, audio flows, chat goes both ways and is stored.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '@parley/testkit';
import {
  clickCall,
  inboundAudio,
  received,
  startWidgetWorld,
  states,
  statusText,
  type WidgetWorld,
} from '../src/widget-fixture.js';

let world: WidgetWorld;
let scores: Server;

beforeAll(async () => {
  // The company's benefit endpoint: Ada (C-1001) is worth a lot.
  scores = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { customerId } = JSON.parse(body) as { customerId?: string };
      res
        .setHeader('content-type', 'application/json')
        .end(JSON.stringify({ score: customerId === 'C-1001' ? 420 : 5 }));
    });
  });
  await new Promise<void>((r) => scores.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(scores.address() as AddressInfo).port}`;
  world = await startWidgetWorld({
    agents: [{ id: 'deskagent', tier: 'senior' }],
    tenantExtra: {
      routing: {
        benefit: { url: `${url}/benefit`, timeoutMs: 500 },
        algorithm: {
          kind: 'weighted',
          tiers: [{ name: 'high', minValue: 100 }, { name: 'standard' }],
        },
      },
    },
  });
});

afterAll(async () => {
  await world?.close();
  await new Promise<void>((r) => scores.close(() => r()));
  await stopAll();
});

describe('agent desk', () => {
  it('rings with the visitor’s context, answers in the browser, and chats both ways', async () => {
    // The agent signs in to the desk; the desk registers as the agent's phone.
    const { page: desk } = await world.newPage();
    await desk.goto(`${world.gw.gateway.httpUrl}/desk`);
    await desk.getByLabel('Username').fill('deskagent');
    await desk.getByLabel('Password').fill('secret');
    await desk.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => desk.locator('parley-agent-desk [part="phone-status"]').innerText(), {
        timeout: 15_000,
      })
      .toContain('Ready');
    await expect
      .poll(
        async () =>
          (await world.gw.api<{ agents: { id: string; registered: boolean }[] }>('/v1/agents')).body
            .agents[0]?.registered,
      )
      .toBe(true);

    // The visitor, signed in to the company site as Ada, calls.
    const { page: visitor } = await world.newPage();
    await visitor.goto(`${world.siteOrigin}/`);
    await visitor.evaluate(() =>
      fetch('/api/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer: 'C-1001' }),
      }),
    );
    await clickCall(visitor);

    // The desk rings with the session's context and the customer's value.
    const ringing = desk.locator('parley-agent-desk [part="ringing"]');
    await expect.poll(() => ringing.isVisible(), { timeout: 15_000 }).toBe(true);
    const ringText = await ringing.innerText();
    expect(ringText).toMatch(/\+1555\d{4}/);
    expect(ringText).toContain('Ada Lovelace');
    expect(ringText).toContain('C-1001');
    expect(ringText).toContain(world.siteOrigin);
    expect(ringText).toMatch(/high/i);

    // Answered in the browser.
    await desk.locator('parley-agent-desk').getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => states(visitor), { timeout: 15_000 }).toContain('in-call');
    await expect
      .poll(async () => (await inboundAudio(visitor)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.0001);
    await expect
      .poll(async () => (await inboundAudio(desk)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.0001);

    // The page the visitor is on reaches the desk (the widget's navigation message).
    await expect
      .poll(() => desk.locator('parley-agent-desk [part="call"]').innerText(), { timeout: 5000 })
      .toContain(`${world.siteOrigin}/`);

    // Chat: visitor → desk, desk → visitor.
    await visitor.waitForFunction(
      () =>
        document.querySelector('parley-call')?.shadowRoot?.querySelector('[part~="chat-input"]') !==
        null,
    );
    await visitor.evaluate(() =>
      (
        document.querySelector('parley-call') as unknown as { send(t: string): Promise<unknown> }
      ).send('Is my order shipped?'),
    );
    const deskChat = desk.locator('parley-agent-desk [part="chat-log"]');
    await expect
      .poll(() => deskChat.innerText(), { timeout: 5000 })
      .toContain('Is my order shipped?');
    await desk.getByLabel('Message to the visitor').fill('Yes, it left this morning.');
    await desk.locator('parley-agent-desk').getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(async () => (await received(visitor)).map((m) => m.text), { timeout: 5000 })
      .toContain('Yes, it left this morning.');

    // Hold from the desk: the visitor's widget says so, and again when the agent is back.
    const deskEl = desk.locator('parley-agent-desk');
    await deskEl.getByRole('button', { name: 'Hold' }).click();
    await expect.poll(() => statusText(visitor), { timeout: 5000 }).toContain('On hold');
    await deskEl.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => statusText(visitor), { timeout: 5000 }).toContain('Connected');

    // The agent hangs up; the visitor's widget shows the call ended.
    await desk.locator('parley-agent-desk').getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => states(visitor), { timeout: 10_000 }).toContain('ended');

    // Stored with the call: both messages in order, the routing decision, who answered.
    const { body: list } = await world.gw.api<{ calls: { id: string }[] }>('/v1/calls?limit=1');
    const { body: record } = await world.gw.api<{
      agentId: string;
      endedBy: string;
      routing: { tier: string; value: number };
      messages: { from: string; message: { type: string; text?: string; url?: string } }[];
    }>(`/v1/calls/${list.calls[0]!.id}`);
    expect(record).toMatchObject({
      agentId: 'deskagent',
      endedBy: 'agent',
      routing: { tier: 'high', value: 420 },
    });
    // The widget first tells the agent which page the visitor is on, then the chat.
    expect(record.messages[0]?.message).toMatchObject({
      type: 'navigation',
      url: `${world.siteOrigin}/`,
    });
    expect(record.messages.slice(1).map((m) => [m.from, m.message.text])).toEqual([
      ['visitor', 'Is my order shipped?'],
      ['agent', 'Yes, it left this morning.'],
    ]);
  });
});
