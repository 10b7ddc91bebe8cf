/**
 * The `telephony` adapter's trunk-call hook when the `tracked-calls` port
 * refuses (calls/flow/telephony.ts, `#trunkCall`), on real calls with sipp as
 * the carrier: a listing's tracking number while the listing is paused. The
 * carrier gets 480 with `listing_unavailable` in its Reason, nothing is
 * admitted (no call record, no flow run, nothing charged) and the trunk slot
 * the call took is given back at once: on a trunk capped at one call, the
 * next call is not refused 503 `trunk_call_limit`, and a call to another DID
 * runs its flow. (A routed tracking number: tracked-call.sipp.test.ts.)
 */
import { once } from 'node:events';
import { bundledScenario, runSipp, sippAvailable, stopAll } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trunk } from '../src/trunks/index.js';
import { CARRIER, carrierTrunk } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { finalResponse } from './sipp-log.js';

const TRACKING = '+14155550181';
const PLAIN_DID = '+14155550182';

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('a paused listing’s tracking number (sipp carrier)', () => {
  let gw: TestGateway;
  let trunk: Trunk;
  let listingId = '';
  let advertiserId = '';

  beforeAll(async () => {
    gw = await startTestGateway({
      config: {
        // Refused before answering: the carrier reads the flow ran from the 603.
        flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
        marketplace: { tenants: { [TENANT]: {} } },
        trunks: {
          carrier: {
            ...carrierTrunk({
              dids: { [TRACKING]: 'not-in-service', [PLAIN_DID]: 'not-in-service' },
            }),
            maxConcurrentCalls: 1,
          },
        },
      },
    });
    trunk = gw.gateway.trunks.trunk('carrier') as Trunk;
    const advertiser = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
      tenant: TENANT,
      name: 'Bob the Plumber',
      initialBalanceCents: 10_000,
    });
    expect(advertiser.status).toBe(201);
    advertiserId = advertiser.body.id;
    const listing = await gw.apiRequest<{ id: string }>('POST', '/v1/listings', {
      advertiserId,
      title: 'Plumber',
      category: 'plumbing',
      region: 'US',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 500,
      dailyBudgetCents: 10_000,
      staticNumber: TRACKING,
    });
    expect(listing.status, JSON.stringify(listing.body)).toBe(201);
    listingId = listing.body.id;
    const paused = await gw.apiRequest('PATCH', `/v1/listings/${listingId}`, { status: 'paused' });
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
  });
  afterAll(() => gw?.close());

  /** One call from the carrier to `called`; its final response. */
  async function carrierCall(called: string) {
    const result = await runSipp({
      scenario: await bundledScenario('uac-carrier-invite'),
      remote: gw.udp,
      address: CARRIER,
      calls: 1,
      injection: { rows: [[called, '4155550702', 'X-Test: 1', '0']] },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    return finalResponse(result.messages);
  }

  async function slotsFree(): Promise<void> {
    while (trunk.activeCalls !== 0) await once(trunk, 'slots');
  }

  it('refuses 480 listing_unavailable, admits nothing, and gives the trunk slot back', async () => {
    for (let i = 0; i < 2; i += 1) {
      // Twice on a trunk capped at one call: the first refusal left its slot free.
      const final = await carrierCall(TRACKING);
      expect(final?.status, final?.text).toBe(480);
      expect(final?.header('Reason')).toMatch(/text="listing_unavailable"/);
      // Given back before the 480 left, not when the INVITE transaction ends
      // (Timer I, 5 s later: the trunks' own safety net).
      expect(trunk.activeCalls).toBe(0);
    }
    // Nothing was admitted: no call record, so no flow ran and nothing could be charged.
    expect(await gw.gateway.callStore.listRecent(10)).toEqual([]);
    const ledger = await gw.api<{ transactions: { kind: string }[] }>(
      `/v1/advertisers/${advertiserId}/ledger`,
    );
    expect(ledger.body.transactions.filter((t) => t.kind === 'charge')).toEqual([]);

    // The trunk takes the next call to another DID and runs its flow.
    const plain = await carrierCall(PLAIN_DID);
    expect(plain?.status, plain?.text).toBe(603);
    await gw.callsEnded();
    const records = await gw.gateway.callStore.listRecent(10);
    expect(records.map((r) => [r.called, r.flow])).toEqual([[PLAIN_DID, 'not-in-service']]);
    await slotsFree();
  });
});
