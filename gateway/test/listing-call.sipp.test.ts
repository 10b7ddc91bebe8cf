/**
 * A visitor's web call to a marketplace listing (issue 12, S8: the listing's
 * web reference, `<parley-call listing impression>`), on real peers: a
 * publisher's placement shows the listing (an impression); sipp, a SIP
 * visitor with a call token scoped `listing:<id>`, calls
 * `sip:listing.<id>@…` naming the impression in `X-Parley-Impression`; the
 * gateway routes it to the listing's queue where a baresip agent answers and
 * hears the caller's tone, attributes it to the impression, and charges the
 * advertiser the impression's price once. Read where it is kept: the agent's
 * recording, the call record through the API, the advertiser's ledger.
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
import { TENANT, registeredAgent, startTestGateway, type TestGateway } from './harness.js';
import { placeOne, plumberListing } from './marketplace-setup.js';

const DEVICE = 'device-web-0001';

afterAll(() => stopAll());

interface LedgerView {
  transactions: {
    kind: string;
    meta: Record<string, unknown>;
    postings: { account: string; amountCents: number }[];
  }[];
}

describe.skipIf(!sippAvailable())("a web call to a listing's reference (sipp visitor)", () => {
  let gw: TestGateway;
  let agent: BaresipAgent;
  let advertiserId = '';
  let publisherId = '';
  let placementKey = '';
  let listingId = '';

  beforeAll(async () => {
    gw = await startTestGateway({
      agents: [{ id: 'agent1' }],
      config: { marketplace: { reserveCents: 300, publisherSharePercent: 40 } },
    });
    ({ advertiserId, publisherId, placementKey, listingId } = await plumberListing(gw));
    agent = await registeredAgent(gw);
  });
  afterAll(async () => {
    await agent?.stop();
    await gw?.close();
  });

  /** The impression shown to `device` and its sealed reference (what the page's button sends). */
  async function place(device = DEVICE): Promise<{ impressionId: string; reference: string }> {
    const placement = await placeOne<{ impressionId: string; reference: string }>(
      gw,
      placementKey,
      device,
    );
    const slot = placement.slots[0];
    expect(slot?.reference, JSON.stringify(placement)).toMatch(/^im_[\w-]+\.[\w-]{22}$/);
    return slot!;
  }

  async function callListing(
    token: string,
    impression: string,
    durationMs: number,
    scenario: 'uac-bearer-impression' = 'uac-bearer-impression',
  ) {
    return runSipp({
      scenario: await bundledScenario(scenario),
      remote: gw.udp,
      service: `listing.${listingId}`,
      calls: 1,
      callDurationMs: durationMs,
      injection: { rows: [[token, impression]] },
      timeoutMs: 60_000,
    });
  }

  async function settled(): Promise<void> {
    await gw.callsEnded();
  }

  async function publisherBalance(): Promise<number> {
    const ledger = await gw.api<LedgerView>('/v1/marketplace/ledger');
    return ledger.body.transactions
      .flatMap((t) => t.postings)
      .filter((p) => p.account === `publisher:${publisherId}`)
      .reduce((sum, p) => sum + p.amountCents, 0);
  }

  async function charges(): Promise<LedgerView['transactions']> {
    const ledger = await gw.api<LedgerView>(`/v1/advertisers/${advertiserId}/ledger`);
    return ledger.body.transactions.filter((t) => t.kind === 'charge');
  }

  it("routes the visitor to the listing's agent, attributes the impression and charges its price once", async () => {
    const { impressionId: impression, reference } = await place();
    const token = await gw.token({
      subject: 'web-sess-L1',
      scope: `listing:${listingId}`,
      privateClaims: { name: 'Ada', deviceId: DEVICE },
    });
    const since = agent.sipMessages().length;
    const result = await callListing(token, reference, 3000);
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since });
    // The visitor's impression claim stays at the gateway (every X-Parley-* header is scrubbed).
    expect(invite.header('x-parley-impression')).toBeUndefined();
    const heard = await analyse(agent.lastRecording().received!);
    expect(heard.roughFrequencyHz).toBeGreaterThan(900);
    expect(heard.roughFrequencyHz).toBeLessThan(1100);
    await settled();

    const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
    expect(record).toMatchObject({ sessionId: 'web-sess-L1', agentId: 'agent1', queue: 'sales' });
    // The Parley call record names what the call was attributed to.
    const view = await gw.api<{ marketplace: Record<string, unknown> | null }>(
      `/v1/calls/${record.id}`,
    );
    expect(view.body.marketplace).toMatchObject({
      kind: 'web',
      listingId,
      advertiserId,
      publisherId,
      impressionId: impression,
      priceCents: 300,
      qualified: true,
      chargedCents: 300,
    });
    const list = await gw.api<{ calls: { id: string; marketplace: unknown }[] }>(
      '/v1/calls?limit=1',
    );
    expect(list.body.calls[0]).toMatchObject({
      id: record.id,
      marketplace: { impressionId: impression },
    });

    const charged = await charges();
    expect(charged).toHaveLength(1);
    expect(charged[0]?.meta).toMatchObject({ callId: record.id, impressionId: impression });
    expect(charged[0]?.postings).toEqual(
      expect.arrayContaining([
        { account: `advertiser:${advertiserId}`, amountCents: -300 },
        { account: `publisher:${publisherId}`, amountCents: 120 },
      ]),
    );
  });

  it('does not attribute a forged, swapped or bare impression: a direct call at the bid, the impression and its publisher never charged', async () => {
    const shown = await place();
    const other = await place('device-web-0002');
    const mac = (reference: string) => reference.slice(reference.indexOf('.') + 1);
    const flipped = mac(shown.reference).startsWith('A') ? 'B' : 'A';
    const claims: [string, string][] = [
      // The seal of another impression on this one's id: the visitor swapped them.
      [`${shown.impressionId}.${mac(other.reference)}`, 'forged'],
      // One character of the seal changed.
      [`${shown.impressionId}.${flipped}${mac(shown.reference).slice(1)}`, 'forged'],
      // The bare id, as an old page (or a visitor who read the page) would send it.
      [shown.impressionId, 'unsealed'],
      ['im_not-one-of-ours.AAAAAAAAAAAAAAAAAAAAAA', 'unknown'],
    ];
    const publisherBefore = await publisherBalance();
    for (const [n, [claim, why]] of claims.entries()) {
      const before = (await charges()).length;
      const token = await gw.token({
        subject: `web-sess-T${n}`,
        scope: `listing:${listingId}`,
        privateClaims: { deviceId: DEVICE },
      });
      const result = await callListing(token, claim, 2500);
      expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      await settled();
      const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
      const view = await gw.api<{ marketplace: Record<string, unknown> | null }>(
        `/v1/calls/${record.id}`,
      );
      // The call went through to the agent, unattributed: the listing's bid, no publisher.
      expect(record.agentId, claim).toBe('agent1');
      expect(view.body.marketplace, claim).toMatchObject({
        kind: 'direct',
        impressionId: null,
        publisherId: null,
        priceCents: 1000,
        chargedCents: 1000,
        claim: `${why}: ${claim}`,
      });
      const charged = await charges();
      expect(charged).toHaveLength(before + 1);
      expect(charged.find((t) => t.meta['callId'] === record.id)?.meta).toMatchObject({
        impressionId: null,
      });
    }
    // No charge named the shown impression after its first (attributed) call, and its
    // publisher was paid nothing for these calls.
    expect(await publisherBalance()).toBe(publisherBefore);
    const metrics = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_marketplace_unattributed_claims_total\{reason="forged"\} 2/);
  });

  it('refuses a token for a queue (scope), and a paused listing (480 listing_unavailable)', async () => {
    const queueToken = await gw.token({ subject: 'web-sess-L3', scope: 'queue:sales' });
    const denied = await runSipp({
      scenario: await bundledScenario('uac-bearer-impression'),
      remote: gw.udp,
      service: `listing.${listingId}`,
      calls: 1,
      injection: { rows: [[queueToken, 'none']] },
      timeoutMs: 30_000,
    });
    expect(denied.stats.failed, denied.output).toBe(1);
    expect(denied.messages).toMatch(/SIP\/2\.0 403[\s\S]*scope_denied/);

    const paused = await gw.apiRequest('PATCH', `/v1/listings/${listingId}`, { status: 'paused' });
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    const token = await gw.token({ subject: 'web-sess-L4', scope: `listing:${listingId}` });
    const before = (await charges()).length;
    const refused = await runSipp({
      scenario: await bundledScenario('uac-bearer-impression'),
      remote: gw.udp,
      service: `listing.${listingId}`,
      calls: 1,
      injection: { rows: [[token, 'none']] },
      timeoutMs: 30_000,
    });
    expect(refused.stats.failed, refused.output).toBe(1);
    expect(refused.messages).toMatch(/SIP\/2\.0 480[\s\S]*listing_unavailable/);
    expect(await charges()).toHaveLength(before);
  });
});
