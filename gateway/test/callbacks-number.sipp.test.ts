/**
 * A callback to a listing whose advertiser is a phone number through a trunk
 * (issue 13), with sipp as the carrier on both sides: the customer's phone
 * behind the callbacks' trunk (`carrier`) answers and presses 1 (RFC 4733,
 * sipp's pcap); only then does the gateway dial the advertiser's number
 * through the advertiser's trunk (`advertiser-line`, another sipp on the
 * carrier side), which answers: the two are bridged and the advertiser is
 * charged the fee once. The queue's baresip agent is never rung: the
 * listing's destination is the number.
 */
import {
  PortAllocator,
  bundledScenario,
  sippAvailable,
  startSipp,
  stopAll,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER, startCallbacksWorld, type CallbacksWorld } from './callbacks-world.js';
import { CARRIER } from './carrier.js';
import { receivedIn, requestsIn } from './sipp-log.js';

const ADVERTISER_NUMBER = '+14155550177';

const ports = new PortAllocator();
let world: CallbacksWorld;
let line: PortBlock;
let advertiserPhone: SippInstance | undefined;

afterAll(async () => {
  await advertiserPhone?.stop();
  await world?.close();
  line?.release();
  await stopAll();
});

describe.skipIf(!sippAvailable())(
  "a callback to a listing's phone number (sipp both sides)",
  () => {
    beforeAll(async () => {
      line = await ports.allocate(1, { protocols: ['udp'] });
      world = await startCallbacksWorld(
        {},
        {
          'advertiser-line': {
            peers: [{ host: CARRIER, port: line.base }],
            keepAlive: { intervalSeconds: 0 },
            defaultCountry: 'US',
          },
        },
      );
    });

    it('"1": the number is dialled through its trunk, bridged, and charged once', async () => {
      const { advertiserId, listingId } = await world.newListing(undefined, {
        kind: 'number',
        number: ADVERTISER_NUMBER,
        trunk: 'advertiser-line',
      });
      advertiserPhone = await startSipp({
        scenario: await bundledScenario('uas-carrier-answer'),
        address: CARRIER,
        localPort: line.base,
        calls: 1,
        traceMessages: true,
        name: 'advertiser-number',
      });
      const customer = await world.startCustomer('uas-carrier-press-1');
      const agentInvites = world.advertiser.receivedRequests('INVITE').length;
      const service = world.gw.gateway.callbacks.service;
      const asked = await world.ask(listingId, 'now', { name: 'Ada', page: '/plumbers' });
      const done = world.ended(asked.id);
      // Connected: hang both up as the requester's cancel does during a conversation.
      await new Promise<void>((resolve) => {
        const stop = service.watch(asked.id, (e) => {
          if (e.phase !== 'connected') return;
          queueMicrotask(() => stop());
          resolve();
        });
      });
      service.cancel(asked.id);
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
      expect(attempt.bridgedAt!).toBeGreaterThanOrEqual(attempt.advertiser[0]!.answeredAt!);
      // The fee, once.
      expect(record.chargedAt).not.toBeNull();
      const fees = await world.fees(advertiserId);
      expect(fees).toHaveLength(1);
      expect(fees[0]?.postings).toContainEqual(expect.objectContaining({ amountCents: -300 }));
      // The advertiser's line got one INVITE to its number, showing the customer's, and the BYE.
      const advertiserEnd = await advertiserPhone.result;
      expect(advertiserEnd.exitCode, advertiserEnd.errors).toBe(0);
      const [invite] = requestsIn(advertiserEnd.messages, 'INVITE');
      expect(requestsIn(advertiserEnd.messages, 'INVITE')).toHaveLength(1);
      expect(invite?.startLine).toContain(`INVITE sip:${ADVERTISER_NUMBER}@`);
      expect(invite?.header('from')).toContain(CUSTOMER);
      expect(requestsIn(advertiserEnd.messages, 'BYE')).toHaveLength(1);
      // The customer's phone: called first, hung up at the end; the queue's agent never rung.
      const customerEnd = await customer.stop();
      expect(receivedIn(customerEnd.messages).filter((m) => m.method === 'BYE')).toHaveLength(1);
      expect(world.advertiser.receivedRequests('INVITE')).toHaveLength(agentInvites);
    });
  },
);
