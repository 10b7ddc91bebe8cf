/**
 * A callback to a listing whose advertiser is a phone number through a trunk
 * (issue 13), both phones on the carrier side (127.0.0.2): sipp is the
 * customer's phone behind the callbacks' trunk (`carrier`): it answers,
 * presses 1 (RFC 4733, sipp's pcap) and echoes what it hears; only then does
 * the gateway dial the advertiser's number through the advertiser's trunk
 * (`advertiser-line`), where a baresip phone answers and sends its 800 Hz
 * tone: it hears the tone come back through the customer's echo (bridged,
 * audio both ways), and the advertiser is charged the fee once. The queue's
 * baresip agent is never rung: the listing's destination is the number.
 */
import {
  analyse,
  sippAvailable,
  startBaresipAgent,
  stopAll,
  until,
  wavSeconds,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER, startCallbacksWorld, type CallbacksWorld } from './callbacks-world.js';
import { CARRIER } from './carrier.js';
import { TENANT } from './harness.js';
import { receivedIn } from './sipp-log.js';

const ADVERTISER_NUMBER = '+14155550177';

let world: CallbacksWorld;
let line: BaresipAgent;

afterAll(async () => {
  await line?.stop();
  await world?.close();
  await stopAll();
});

describe.skipIf(!sippAvailable())("a callback to a listing's phone number (carrier side)", () => {
  beforeAll(async () => {
    line = await startBaresipAgent({
      user: ADVERTISER_NUMBER,
      address: CARRIER,
      toneHz: 800,
      name: 'line',
    });
    world = await startCallbacksWorld(
      {},
      {
        'advertiser-line': {
          peers: [{ host: CARRIER, port: line.listenPort }],
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'US',
        },
      },
    );
  });

  it('"1": the number is dialled through its trunk, bridged with audio both ways, and charged once', async () => {
    const { advertiserId, listingId } = await world.newListing(undefined, {
      kind: 'number',
      number: ADVERTISER_NUMBER,
      trunk: 'advertiser-line',
    });
    await world.startCustomer('uas-carrier-press-1');
    const agentInvites = world.advertiser.receivedRequests('INVITE').length;
    const asked = await world.ask(listingId, 'now', { name: 'Ada', page: '/plumbers' });
    const done = world.ended(asked.id);
    // Two seconds of conversation: the advertiser's tone goes to the customer and comes back.
    await line.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    await until(
      () => wavSeconds(line.lastRecording().received ?? '') >= 2,
      'the advertiser to record 2 s',
      30_000,
    );
    await line.hangup();
    const { record, phases } = await done;
    expect(phases.map((e) => e.phase)).toEqual([
      'calling',
      'ringing',
      'prompting',
      'connecting',
      'connected',
      'ended',
    ]);
    expect(record).toMatchObject({ outcome: 'completed', target: { kind: 'number' } });
    const attempt = record.attempts[0]!;
    expect(attempt.key).toBe('1');
    expect(attempt.advertiser).toHaveLength(1);
    expect(attempt.advertiser[0]).toMatchObject({
      party: ADVERTISER_NUMBER,
      result: 'answered',
    });
    // Dialled only after the key, bridged after the advertiser answered.
    expect(attempt.advertiser[0]!.dialledAt).toBeGreaterThanOrEqual(attempt.keyAt!);
    expect(attempt.bridgedAt).not.toBeNull();
    const heard = await analyse(line.lastRecording().received!);
    expect(heard.roughFrequencyHz).toBeGreaterThan(700);
    expect(heard.roughFrequencyHz).toBeLessThan(900);
    // The fee, once.
    expect(record.chargedAt).not.toBeNull();
    const fees = await world.fees(advertiserId);
    expect(fees).toHaveLength(1);
    expect(fees[0]?.postings).toContainEqual(expect.objectContaining({ amountCents: -300 }));
    // The advertiser's line got one INVITE, to its number, showing the customer's.
    const invites = line.receivedRequests('INVITE');
    expect(invites).toHaveLength(1);
    expect(invites[0]?.startLine).toContain(`INVITE sip:${ADVERTISER_NUMBER}@`);
    expect(invites[0]?.header('from')).toContain(CUSTOMER);
    // The customer's phone: called first, hung up at the end; the queue's agent never rung.
    const customerEnd = await world.stopCustomer();
    expect(receivedIn(customerEnd!.messages).filter((m) => m.method === 'BYE')).toHaveLength(1);
    expect(world.advertiser.receivedRequests('INVITE')).toHaveLength(agentInvites);
  });
  it('an agent who is a phone number as the destination: "1" dials it through its trunk, bridged, charged once', async () => {
    const made = await world.gw.apiRequest('PUT', '/v1/agents/bob-mobile', {
      tenant: TENANT,
      password: 'bob-mobile-secret',
      queues: ['sales'],
      phone: ADVERTISER_NUMBER,
      trunk: 'advertiser-line',
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const { advertiserId, listingId } = await world.newListing(undefined, {
      kind: 'agent',
      agent: 'bob-mobile',
    });
    await world.startCustomer('uas-carrier-press-1');
    const before = line.receivedRequests('INVITE').length;
    const asked = await world.ask(listingId, 'now');
    const done = world.ended(asked.id);
    await line.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    await until(
      () => wavSeconds(line.lastRecording().received ?? '') >= 2,
      'the agent to record 2 s',
      30_000,
    );
    await line.hangup();
    const { record } = await done;
    expect(record.outcome, JSON.stringify(record.attempts)).toBe('completed');
    expect(record.target).toMatchObject({ kind: 'agent', agent: 'bob-mobile' });
    const attempt = record.attempts[0]!;
    expect(attempt.advertiser[0]!.dialledAt).toBeGreaterThanOrEqual(attempt.keyAt!);
    // Its tone came back through the customer's echo: bridged both ways.
    const heard = await analyse(line.lastRecording().received!);
    expect(heard.roughFrequencyHz).toBeGreaterThan(700);
    expect(heard.roughFrequencyHz).toBeLessThan(900);
    expect(await world.fees(advertiserId)).toHaveLength(1);
    // One INVITE through the trunk to the agent's number, showing the customer's.
    const invites = line.receivedRequests('INVITE').slice(before);
    expect(invites).toHaveLength(1);
    expect(invites[0]?.startLine).toContain(`INVITE sip:${ADVERTISER_NUMBER}@`);
    expect(invites[0]?.header('from')).toContain(CUSTOMER);
    await world.stopCustomer();
  });
});
