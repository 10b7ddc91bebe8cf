/**
 * A marketplace tracking number on a real call (issue 12 item 4, S3/S8): a
 * publisher's placement leases a DID to an impression; sipp, the carrier's
 * caller on 127.0.0.2, dials that number through the trunk; the gateway
 * matches the impression, dials the listing's queue where a baresip agent
 * answers, and charges the advertiser once when the call has been connected
 * for the listing's minimum. Read where it is kept: the agent's INVITE and
 * recording, the marketplace's call, the advertiser's ledger.
 */
import {
  analyse,
  bundledScenario,
  runSipp,
  sippAvailable,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER, carrierTrunk } from './carrier.js';
import { TENANT, registeredAgent, startTestGateway, type TestGateway } from './harness.js';
import { placeOne, plumberListing } from './marketplace-setup.js';

const NUMBERS = ['+14155550161', '+14155550162'];

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('a tracking number on a real call (sipp carrier)', () => {
  let gw: TestGateway;
  let agent: BaresipAgent;
  let advertiserId = '';
  let placementKey = '';
  let leased = '';

  beforeAll(async () => {
    gw = await startTestGateway({
      agents: [{ id: 'agent1' }],
      config: {
        flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
        marketplace: {
          reserveCents: 300,
          publisherSharePercent: 40,
          tenants: { [TENANT]: { trackingNumbers: { numbers: NUMBERS, leaseSeconds: 600 } } },
        },
        // A tracking number no impression explains runs its own flow.
        trunks: {
          carrier: carrierTrunk({
            dids: Object.fromEntries(NUMBERS.map((number) => [number, 'not-in-service'])),
          }),
        },
      },
    });
    ({ advertiserId, placementKey } = await plumberListing(gw));
    agent = await registeredAgent(gw);
  });
  afterAll(async () => {
    await agent?.stop();
    await gw?.close();
  });

  it("routes the leased number's call to the listing's agent and charges the impression's price once", async () => {
    const placement = await placeOne<{
      impressionId: string;
      number: string | null;
      numberKind: string;
    }>(gw, placementKey, 'device-track-0001');
    const slot = placement.slots[0];
    expect(slot?.numberKind, JSON.stringify(placement)).toBe('leased');
    leased = slot!.number!;

    const since = agent.sipMessages().length;
    const result = await runSipp({
      scenario: await bundledScenario('uac-carrier-call'),
      remote: gw.udp,
      address: CARRIER,
      calls: 1,
      callDurationMs: 3000,
      injection: { rows: [[slot!.number!, '4155550777']] },
      timeoutMs: 60_000,
    });
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since });
    // The agent sees the caller's own number (a trunk caller), not a session's.
    expect(invite.header('from')).toMatch(/\+14155550777/);
    const heard = await analyse(agent.lastRecording().received!);
    expect(heard.roughFrequencyHz).toBeGreaterThan(900);
    expect(heard.roughFrequencyHz).toBeLessThan(1100);

    // The record is final once the call left the manager.
    await gw.callsEnded();
    const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
    expect(record).toMatchObject({ channel: 'phone', agentId: 'agent1', called: slot!.number });
    const call = await gw.api<{ impressionId: string; chargedCents: number }>(
      `/v1/marketplace/calls/${record.id}`,
    );
    expect(call.status, JSON.stringify(call.body)).toBe(200);
    expect(call.body).toMatchObject({ impressionId: slot!.impressionId, chargedCents: 300 });
    const ledger = await gw.api<{
      transactions: { kind: string; postings: { account: string; amountCents: number }[] }[];
    }>(`/v1/advertisers/${advertiserId}/ledger`);
    const charges = ledger.body.transactions.filter((t) => t.kind === 'charge');
    expect(charges).toHaveLength(1);
    expect(charges[0]?.postings).toContainEqual({
      account: `advertiser:${advertiserId}`,
      amountCents: -300,
    });
  });

  it("runs the number's own flow when no impression explains the call", async () => {
    // The other number was never leased: its flow refuses the call.
    const idle = NUMBERS.find((n) => n !== leased)!;
    const result = await runSipp({
      scenario: await bundledScenario('uac-carrier-invite'),
      remote: gw.udp,
      address: CARRIER,
      calls: 1,
      injection: { rows: [[idle, '4155550778', 'X-Test: 1', '0']] },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    expect(result.messages).toMatch(/SIP\/2\.0 603/);
  });
});
