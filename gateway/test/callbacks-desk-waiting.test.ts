/**
 * Callbacks that end before any attempt (issue 13): one cancelled by its
 * requester while it waits for its slot, one that expired waiting for a free
 * agent. The desks of the queue they target see them end, with the outcome;
 * an agent of another queue sees nothing of them. Read on the agents' real
 * desk event sockets.
 */
import type { DeskCallbackView } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskSocket, type DeskSocket } from './desk-socket.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
let sales: DeskSocket;
let support: DeskSocket;

beforeAll(async () => {
  gw = await startTestGateway({
    // No contact and not registered: no agent is ever free, a callback "when one is" waits.
    agents: [{ id: 'agent1' }, { id: 'agent2', queues: ['support'] }],
    config: {
      queues: {
        sales: { tenant: TENANT },
        support: { tenant: TENANT },
      },
      callbacks: {
        queues: {
          sales: { callerNumber: '+14155550188', name: 'Acme' },
          support: { callerNumber: '+14155550189', name: 'Acme support' },
        },
      },
    },
  });
  sales = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
  support = await deskSocket(gw.gateway.httpUrl, 'agent2', 'secret');
});

afterAll(async () => {
  sales?.ws.close();
  support?.ws.close();
  await gw?.close();
});

async function ask(
  when: string,
  phone: string,
  queue = 'sales',
): Promise<{ id: string; key: string }> {
  const token = await gw.token({
    scope: `callback:${queue}`,
    privateClaims: { callback: { phone, when }, name: 'Ada' },
  });
  const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, destination: queue, page: '/plumbers' }),
  });
  const body = (await res.json()) as { id: string; key: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

const ended = (id: string) => (f: Record<string, unknown>) =>
  f['type'] === 'callback' &&
  (f['callback'] as DeskCallbackView).id === id &&
  (f['callback'] as DeskCallbackView).phase === 'ended';

const framesOf = (desk: DeskSocket, id: string) =>
  desk.frames.filter(
    (f) => f['type'] === 'callback' && (f['callback'] as DeskCallbackView).id === id,
  );

describe('callbacks that end before any attempt, on the desk', () => {
  it('cancelled while waiting for its slot: ended cancelled on the queue’s desk', async () => {
    const cb = await ask(new Date(Date.now() + 3_600_000).toISOString(), '+14155550123');
    const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks/${cb.id}/cancel?key=${cb.key}`, {
      method: 'POST',
    });
    expect(res.status).toBe(200);
    const frame = await sales.frame(ended(cb.id));
    expect(frame['callback']).toMatchObject({
      phase: 'ended',
      outcome: 'cancelled',
      code: 'callback_cancelled',
      attempt: 0,
      destination: 'sales',
      advertiserName: 'Acme',
      page: '/plumbers',
      phone: '+14••••••123',
      privateClaims: { name: 'Ada' },
      agentId: null,
    });
    expect(framesOf(sales, cb.id)).toHaveLength(1);
    expect(JSON.stringify(sales.frames)).not.toContain('+14155550123');
    // Cancelling again changes nothing and tells no one again.
    await fetch(`${gw.gateway.httpUrl}/v1/callbacks/${cb.id}/cancel?key=${cb.key}`, {
      method: 'POST',
    });
    expect(await gw.gateway.callbacks.service.get(cb.id)).toMatchObject({ outcome: 'cancelled' });
  });

  it('expired waiting for a free agent: ended expired on the queue’s desk', async () => {
    const cb = await ask('agent-free', '+14155550124');
    expect(await gw.gateway.callbacks.service.get(cb.id)).toMatchObject({ state: 'scheduled' });
    // What the scheduler calls at the callback's expiresAt (its timing: scheduler.test.ts).
    await gw.gateway.callbacks.service.expire(cb.id);
    const frame = await sales.frame(ended(cb.id));
    expect(frame['callback']).toMatchObject({
      outcome: 'expired',
      code: 'callback_advertiser_unavailable',
      attempt: 0,
      phone: '+14••••••124',
    });
  });

  it('is not shown to the agents of another queue', async () => {
    const later = () => new Date(Date.now() + 3_600_000).toISOString();
    const cancel = (cb: { id: string; key: string }) =>
      fetch(`${gw.gateway.httpUrl}/v1/callbacks/${cb.id}/cancel?key=${cb.key}`, {
        method: 'POST',
      });
    const ofSales = await ask(later(), '+14155550125');
    await cancel(ofSales);
    await sales.frame(ended(ofSales.id));
    // agent2's own queue's callback, ended after: its desk's frames come in order, so a
    // frame of the sales callback would have come before this one.
    const ofSupport = await ask(later(), '+14155550126', 'support');
    await cancel(ofSupport);
    await support.frame(ended(ofSupport.id));
    expect(
      support.frames
        .filter((f) => f['type'] === 'callback')
        .map((f) => (f['callback'] as DeskCallbackView).id),
    ).toEqual([ofSupport.id]);
    expect(framesOf(sales, ofSupport.id)).toEqual([]);
  });
});
