/**
 * A callback live on the desk of the queue it targets (issue 13): a baresip
 * phone on the carrier side of a trunk (127.0.0.2) is the customer; it
 * answers, hears the prompt and presses a key through its control socket
 * (`sndcode`, RFC 4733); another baresip phone is the advertiser (the `sales`
 * queue's agent at a fixed contact). The agent's desk socket gets one
 * `callback` frame per phase, in order, with what the callback is about
 * (the page, the advertiser's name, the customer's name) and the customer's
 * number masked; a desk that connects in the middle catches up.
 * - "1": calling, ringing, prompting, connecting (key 1), ringing the agent,
 *   connected to the agent, ended completed.
 * - "2": … prompting, ended declined (key 2); the advertiser never rings.
 */
import type { DeskCallbackView } from '@parley/shared/protocol';
import { sippAvailable, startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER } from './callbacks-world.js';
import { CARRIER, carrierTrunk } from './carrier.js';
import { deskSocket, type DeskSocket } from './desk-socket.js';
import { startTestGateway, type TestGateway } from './harness.js';

let customer: BaresipAgent;
let advertiser: BaresipAgent;
let gw: TestGateway;

afterAll(async () => {
  await customer?.stop();
  await advertiser?.stop();
  await gw?.close();
  await stopAll();
});

const views = (desk: DeskSocket, id: string): DeskCallbackView[] =>
  desk.frames
    .filter((f) => f['type'] === 'callback')
    .map((f) => f['callback'] as DeskCallbackView)
    .filter((v) => v.id === id);

/** Asks for a callback to `sales`, then presses `key` on the customer's phone once it prompts. */
async function callbackPressing(
  key: string,
): Promise<{ id: string; desk: DeskSocket; late: DeskSocket }> {
  const desk = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
  const token = await gw.token({
    scope: 'callback:sales',
    privateClaims: { callback: { phone: CUSTOMER, when: 'now' }, name: 'Ada' },
  });
  const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, destination: 'sales', page: '/plumbers' }),
  });
  const { id } = (await res.json()) as { id: string };
  expect(res.status).toBe(201);
  const phase = (p: string) => (f: Record<string, unknown>) =>
    f['type'] === 'callback' && (f['callback'] as DeskCallbackView).phase === p;
  await desk.frame(phase('prompting'));
  // A desk that connects now catches up: the callback as it is, then what follows.
  const late = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
  await late.frame(phase('prompting'));
  const sent = await customer.command('sndcode', key);
  expect(sent.ok, JSON.stringify(sent)).toBe(true);
  if (key === '1') {
    await desk.frame(phase('connected'));
    await customer.hangup();
  }
  await desk.frame(phase('ended'));
  await late.frame(phase('ended'));
  desk.ws.close();
  late.ws.close();
  return { id, desk, late };
}

describe.skipIf(!sippAvailable())('callbacks on the desk of their queue', () => {
  beforeAll(async () => {
    customer = await startBaresipAgent({ user: CUSTOMER, address: CARRIER, name: 'customer' });
    advertiser = await startBaresipAgent({ user: 'advertiser', toneHz: 800 });
    gw = await startTestGateway({
      agents: [{ id: 'agent1', contact: advertiser.uri }],
      config: {
        trunks: { carrier: carrierTrunk({ port: customer.listenPort }) },
        callbacks: {
          trunk: 'carrier',
          queues: { sales: { callerNumber: '+14155550188', name: 'Acme' } },
          prompt: { repeat: 2, keyTimeoutSeconds: 10 },
        },
      },
    });
  });

  it('"1": the desk follows it from calling the customer to the end of the talk', async () => {
    const { id, desk, late } = await callbackPressing('1');
    const seen = views(desk, id);
    expect(views(late, id).map((v) => v.phase)).toEqual([
      'prompting',
      'connecting',
      'connecting',
      'connected',
      'ended',
    ]);
    expect(seen.map((v) => `${v.phase}${v.agentId ? ` ${v.agentId}` : ''}`)).toEqual([
      'calling',
      'ringing',
      'prompting',
      'connecting',
      'connecting agent1',
      'connected agent1',
      'ended agent1',
    ]);
    for (const v of seen)
      expect(v).toMatchObject({
        destination: 'sales',
        advertiserName: 'Acme',
        page: '/plumbers',
        phone: '+14••••••123',
        privateClaims: { name: 'Ada' },
        attempt: 1,
      });
    expect(JSON.stringify(desk.frames)).not.toContain(CUSTOMER);
    expect(seen.slice(0, 3).every((v) => v.key === null)).toBe(true);
    expect(seen.slice(3).every((v) => v.key === '1' && v.keyAt !== null)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ outcome: 'completed' });
    expect(await gw.gateway.callbacks.service.get(id)).toMatchObject({ outcome: 'completed' });
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(1);
  });

  it('"2": declined on the desk, the advertiser never rings', async () => {
    const invites = advertiser.receivedRequests('INVITE').length;
    const { id, desk } = await callbackPressing('2');
    const seen = views(desk, id);
    expect(seen.map((v) => v.phase)).toEqual(['calling', 'ringing', 'prompting', 'ended']);
    expect(seen.at(-1)).toMatchObject({ outcome: 'declined', key: '2', agentId: null });
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(invites);
  });
});
