/**
 * The acceptance prompt as the customer hears it (issue 13): a baresip phone
 * on the carrier side of a trunk (127.0.0.2) is the customer; it answers and
 * records. pocketsphinx reads in what it recorded through the trunk (G.711)
 * the words it reads in the prompt itself ("You asked Acme to call you.
 * Press 1 to be connected now, or 2 to cancel.", flite at 8 kHz).
 * It presses no key: the callback ends `no_key` and no advertiser is called.
 */
import { sippAvailable, startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSaid, promptText } from './callbacks-speech.js';
import { CUSTOMER } from './callbacks-world.js';
import { CARRIER, carrierTrunk } from './carrier.js';
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

describe.skipIf(!sippAvailable())('callbacks: the prompt the customer hears', () => {
  beforeAll(async () => {
    customer = await startBaresipAgent({ user: CUSTOMER, address: CARRIER, name: 'customer' });
    advertiser = await startBaresipAgent({ user: 'advertiser' });
    gw = await startTestGateway({
      agents: [{ id: 'agent1', contact: advertiser.uri }],
      config: {
        trunks: { carrier: carrierTrunk({ port: customer.listenPort }) },
        callbacks: {
          trunk: 'carrier',
          queues: { sales: { callerNumber: '+14155550188', name: 'Acme' } },
          prompt: { repeat: 1, keyTimeoutSeconds: 2 },
        },
      },
    });
  });

  it('reads in the phone recording as the prompt itself reads (pocketsphinx)', async () => {
    const token = await gw.token({
      scope: 'callback:sales',
      privateClaims: { callback: { phone: CUSTOMER, when: 'now' } },
    });
    const closed = customer.waitForEvent('CALL_CLOSED', undefined, 60_000);
    const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, destination: 'sales' }),
    });
    const { id } = (await res.json()) as { id: string };
    expect(res.status).toBe(201);
    await closed;
    const heard = customer.lastRecording().received;
    expect(heard, 'the customer recorded nothing').toBeDefined();
    // Read as the prompt the gateway played reads through G.711 (callbacks-speech.ts).
    await expectSaid(gw, heard ?? '', promptText('Acme'));
    // The caller ID the customer saw is the queue's number.
    const invite = customer.receivedRequests('INVITE')[0];
    expect(invite?.header('from') ?? '').toMatch(/\+14155550188@/);
    const record = await gw.gateway.callbacks.service.get(id);
    expect(record?.outcome).toBe('no_key');
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(0);
  });
});
