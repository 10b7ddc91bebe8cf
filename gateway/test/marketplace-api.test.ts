/**
 * The marketplace through a real gateway: the /v1 API (validation, tenants,
 * nothing half-written), placements from a publisher's page (auction order,
 * leased numbers, impressions logged, exhaustion, rate limits), the call
 * path's hooks (inbound match, qualification, one charge), refunds, call-entry
 * sync and reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestGateway, type TestGateway } from './harness.js';

const PAGE_ORIGIN = 'https://news.example';

interface Listing {
  id: string;
  status: string;
  pauseReason: string | null;
  eligible: boolean;
  ineligibleReason: string | null;
}
interface Placement {
  placementId: string;
  slots: {
    slot: number;
    impressionId: string;
    listing: { id: string; title: string };
    number: string | null;
    numberKind: string;
    leaseEndsAt: string;
  }[];
}

describe('marketplace API', () => {
  let gw: TestGateway;
  let advertiser: { id: string; balanceCents: number };
  let publisher: { id: string; placementKey: string };
  const listings: Record<string, Listing> = {};
  let first: Placement | undefined;

  beforeAll(async () => {
    gw = await startTestGateway({
      otherTenants: ['globex'],
      config: {
        marketplace: {
          reserveCents: 100,
          publisherSharePercent: 40,
          tenants: {
            acme: {
              trackingNumbers: {
                numbers: ['+14155550101', '+14155550102', '+14155550103', '+14155550104'],
                leaseSeconds: 600,
              },
              callEntries: {
                rule: 'time-and-duration',
                windowSeconds: 600,
                minDurationSeconds: 60,
              },
            },
          },
          placement: { rateLimit: { perDevice: { perSecond: 0.001, burst: 3 } } },
        },
        // Tracking numbers must be a trunk's inbound numbers of their tenant (checked at start-up).
        flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
        trunks: {
          carrier: {
            peers: [{ host: '127.0.0.2' }],
            keepAlive: { intervalSeconds: 0 },
            inbound: {
              numbers: [
                {
                  from: '+14155550101',
                  to: '+14155550104',
                  tenant: 'acme',
                  flow: 'not-in-service',
                },
                // The listings' static numbers (each listing its own).
                {
                  from: '+14155550196',
                  to: '+14155550199',
                  tenant: 'acme',
                  flow: 'not-in-service',
                },
              ],
            },
          },
        },
      },
    });
    const a = await gw.apiRequest<typeof advertiser>('POST', '/v1/advertisers', {
      tenant: 'acme',
      name: 'Bob the Plumber',
      initialBalanceCents: 100_000,
    });
    expect(a.status).toBe(201);
    advertiser = a.body;
    const p = await gw.apiRequest<typeof publisher>('POST', '/v1/publishers', {
      tenant: 'acme',
      name: 'Daily News',
      origins: [PAGE_ORIGIN],
    });
    expect(p.status).toBe(201);
    publisher = p.body;
    for (const [name, bid, budget, staticNumber] of [
      ['low', 500, 100_000, '+14155550196'],
      ['high', 1500, 100_000, '+14155550197'],
      ['mid', 1000, 100_000, '+14155550199'],
      ['tight', 900, 1000, '+14155550198'],
    ] as const) {
      const l = await gw.apiRequest<Listing>('POST', '/v1/listings', {
        advertiserId: advertiser.id,
        title: `Plumber ${name}`,
        category: 'plumbing',
        region: 'US',
        destination: { kind: 'queue', queue: 'sales' },
        bidCents: bid,
        dailyBudgetCents: budget,
        qualification: { minConnectedSeconds: 0 },
        staticNumber,
      });
      expect(l.status, JSON.stringify(l.body)).toBe(201);
      listings[name] = l.body;
    }
  });
  afterAll(() => gw.close());

  async function place(deviceId: string, slots = 3, origin = PAGE_ORIGIN) {
    const res = await fetch(`${gw.gateway.httpUrl}/v1/placements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({
        publisher: publisher.placementKey,
        category: 'plumbing',
        region: 'US-CA',
        slots,
        deviceId,
        page: 'https://news.example/local',
      }),
    });
    return {
      status: res.status,
      body: (await res.json()) as Placement & { error?: { code: string } },
    };
  }

  it('refuses bad bids, budgets and balances with the field named, and writes nothing', async () => {
    const base = {
      advertiserId: advertiser.id,
      title: 'x',
      category: 'plumbing',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 100,
      dailyBudgetCents: 1000,
    };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ bidCents: -5 }, /bidCents must be at least 1/],
      [{ bidCents: '500' }, /bidCents must be a number of cents/],
      [{ bidCents: 12.5 }, /bidCents must be a whole number/],
      [{ bidCents: 1e12 }, /bidCents must be at most/],
      [{ dailyBudgetCents: -1 }, /dailyBudgetCents must be at least 1/],
      [{ dailyBudgetCents: 50 }, /at least bidCents/],
      [{ destination: { kind: 'queue', queue: 'globex' } }, /globex is not a queue of tenant acme/],
      [{ destination: { kind: 'queue', queue: 'nope' } }, /no queue nope/],
      [{ destination: { kind: 'number', number: '+1' } }, /E\.164/],
      [{ region: 'california' }, /region/],
      [{ schedule: { timeZone: 'Mars/Base', windows: [] } }, /time zone/],
      [{ surprise: 1 }, /unknown field "surprise"/],
    ];
    for (const [change, message] of cases) {
      const res = await gw.apiRequest<{ error: { code: string; detail: string } }>(
        'POST',
        '/v1/listings',
        {
          ...base,
          ...change,
        },
      );
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(res.body.error.detail).toMatch(message);
    }
    for (const body of [
      { tenant: 'acme', name: 'x', initialBalanceCents: -100 },
      { tenant: 'acme', name: 'x', initialBalanceCents: 'lots' },
      { tenant: 'acme', name: 'x', billing: 'credit', creditLimitCents: 1e15 },
      { tenant: 'nowhere', name: 'x' },
    ]) {
      const res = await gw.apiRequest<{ error: { detail: string } }>(
        'POST',
        '/v1/advertisers',
        body,
      );
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const deposit = await gw.apiRequest('POST', `/v1/advertisers/${advertiser.id}/deposits`, {
      amountCents: -1,
      key: 'k',
    });
    expect(deposit.status).toBe(400);
    // Nothing half-written: still the four listings and one advertiser.
    const all = await gw.api<{ listings: unknown[] }>('/v1/listings');
    expect(all.body.listings).toHaveLength(4);
    const ads = await gw.api<{ advertisers: { balanceCents: number }[] }>('/v1/advertisers');
    expect(ads.body.advertisers).toHaveLength(1);
    expect(ads.body.advertisers[0]?.balanceCents).toBe(100_000);
  });

  it('places listings in auction order with leased numbers and logs each impression', async () => {
    const res = await place('device-aaaa-0001');
    expect(res.status).toBe(200);
    first = res.body;
    expect(res.body.slots.map((s) => s.listing.id)).toEqual([
      listings['high']?.id,
      listings['mid']?.id,
      listings['tight']?.id,
    ]);
    expect(res.body.slots.map((s) => s.numberKind)).toEqual(['leased', 'leased', 'leased']);
    expect(new Set(res.body.slots.map((s) => s.number)).size).toBe(3);
    const explained = await gw.api<{
      decision: {
        slots: { listingId: string; price: number; pricedBy: string; quality: number }[];
      };
      impressions: {
        id: string;
        priceCents: number;
        number: string;
        deviceId: string;
        page: string;
      }[];
    }>(`/v1/placements/${res.body.placementId}`);
    // GSP with neutral quality: each pays the next bid.
    expect(explained.body.decision.slots.map((s) => [s.price, s.pricedBy])).toEqual([
      [1000, listings['mid']?.id],
      [900, listings['tight']?.id],
      [500, listings['low']?.id],
    ]);
    expect(explained.body.impressions.map((i) => i.id)).toEqual(
      res.body.slots.map((s) => s.impressionId),
    );
    expect(explained.body.impressions[0]).toMatchObject({
      deviceId: 'device-aaaa-0001',
      page: 'https://news.example/local',
      number: res.body.slots[0]?.number,
    });
    // The same device again: the same numbers (no draining by reloads).
    const again = await place('device-aaaa-0001');
    expect(again.body.slots.map((s) => s.number)).toEqual(res.body.slots.map((s) => s.number));
  });

  it('shows the static number when the pool is exhausted, and counts the shortage', async () => {
    const res = await place('device-bbbb-0002');
    // One number was left in the pool of four.
    expect(res.body.slots.map((s) => s.numberKind)).toEqual(['leased', 'static', 'static']);
    expect(res.body.slots[1]?.number).toBe('+14155550199');
    const metrics = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_marketplace_numbers_exhausted_total\{tenant="acme"\} 2/);
  });

  it("refuses a page outside the publisher's origins, an unknown key, and a device over its rate", async () => {
    expect((await place('device-cccc-0003', 3, 'https://evil.example')).body.error?.code).toBe(
      'origin_not_allowed',
    );
    const unknown = await fetch(`${gw.gateway.httpUrl}/v1/placements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: PAGE_ORIGIN },
      body: JSON.stringify({
        publisher: 'pk_nope',
        category: 'plumbing',
        deviceId: 'device-cccc-0003',
      }),
    });
    expect(unknown.status).toBe(401);
    // device-aaaa-0001 used 2 of its burst of 3.
    expect((await place('device-aaaa-0001')).status).toBe(200);
    const limited = await place('device-aaaa-0001');
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('rate_limited');
  });

  it('matches a call to a leased number, charges the auction price once, and refunds through the API', async () => {
    // The first placement's top slot: its number is still under lease.
    const slot = first?.slots[0];
    expect(slot?.numberKind).toBe('leased');
    const { hooks } = gw.gateway.marketplace;
    const at = Date.now();
    const match = await hooks.matchInbound({
      calledNumber: slot?.number ?? '',
      at,
      callerNumber: '+14155550777',
    });
    expect(match).toMatchObject({
      kind: 'tracked',
      routable: true,
      destination: { kind: 'queue', queue: 'sales' },
    });
    // The device's latest showing of that number (its reloads kept the number).
    expect(match?.impression).toMatchObject({
      deviceId: 'device-aaaa-0001',
      listingId: listings['high']?.id,
      number: slot?.number,
    });
    expect(match?.price).toBe(1000);
    if (!match) return;
    await hooks.callStarted('call-1', match, at);
    expect(await hooks.advertiserConnected('call-1', at)).toEqual({ qualifiesAt: at });
    expect(await hooks.qualify('call-1', at)).toMatchObject({ status: 'charged', amount: 1000 });
    expect(await hooks.qualify('call-1', at + 1)).toMatchObject({
      status: 'duplicate',
      amount: 1000,
    });
    expect(await hooks.callEnded('call-1', at + 5000)).toMatchObject({ status: 'duplicate' });

    const ledger = await gw.api<{
      transactions: { kind: string; postings: { account: string; amountCents: number }[] }[];
    }>(`/v1/advertisers/${advertiser.id}/ledger`);
    const charges = ledger.body.transactions.filter((t) => t.kind === 'charge');
    expect(charges).toHaveLength(1);
    expect(charges[0]?.postings).toEqual([
      { account: `advertiser:${advertiser.id}`, amountCents: -1000 },
      { account: `publisher:${publisher.id}`, amountCents: 400 },
      { account: 'platform:acme', amountCents: 600 },
    ]);
    const call = await gw.api<{ impressionId: string; chargedCents: number }>(
      '/v1/marketplace/calls/call-1',
    );
    expect(call.body).toMatchObject({ impressionId: match.impression?.id, chargedCents: 1000 });

    const refund = { callId: 'call-1', amountCents: 250, reason: 'wrong number' };
    const r1 = await gw.apiRequest<{ duplicate: boolean; amountCents: number }>(
      'POST',
      '/v1/refunds',
      { ...refund, key: 'r-1' },
    );
    const r2 = await gw.apiRequest<{ duplicate: boolean; amountCents: number }>(
      'POST',
      '/v1/refunds',
      { ...refund, key: 'r-1' },
    );
    expect([r1.status, r1.body.duplicate, r2.status, r2.body.duplicate]).toEqual([
      201,
      false,
      200,
      true,
    ]);
    // The repeat answers what the first refund gave back.
    expect([r1.body.amountCents, r2.body.amountCents]).toEqual([250, 250]);
    const tooMuch = await gw.apiRequest<{ error: { code: string } }>('POST', '/v1/refunds', {
      ...refund,
      amountCents: 800,
      key: 'r-2',
    });
    expect(tooMuch.status).toBe(409);
    const a = await gw.api<{ balanceCents: number }>(`/v1/advertisers/${advertiser.id}`);
    expect(a.body.balanceCents).toBe(100_000 - 1000 + 250);
  });

  it('pauses a listing whose budget cannot pay another call, with the reason, and places it no more', async () => {
    const { hooks } = gw.gateway.marketplace;
    const at = Date.now();
    const match = await hooks.matchWeb({ listingId: listings['tight']?.id ?? '', at });
    expect(match).toMatchObject({ kind: 'direct', price: 900, routable: true });
    if (!match) return;
    await hooks.callStarted('call-2', match, at);
    await hooks.advertiserConnected('call-2', at);
    expect(await hooks.callEnded('call-2', at + 1000)).toMatchObject({
      status: 'charged',
      amount: 900,
    });
    const tight = await gw.api<Listing>(`/v1/listings/${listings['tight']?.id}`);
    expect(tight.body).toMatchObject({
      status: 'paused',
      pauseReason: 'daily_budget_exhausted',
      eligible: false,
    });
    expect(await hooks.matchWeb({ listingId: listings['tight']?.id ?? '', at })).toMatchObject({
      routable: false,
      reason: 'daily_budget_exhausted',
    });
    const placed = await place('device-eeee-0005', 3);
    expect(placed.body.slots.map((s) => s.listing.id)).not.toContain(listings['tight']?.id);
  });

  it('syncs call entries: matched, no device, outside the threshold, duplicate, invalid', async () => {
    const placed = await place('device-ffff-0006', 1);
    const impressionId = placed.body.slots[0]?.impressionId;
    const now = Date.now();
    const entries = [
      {
        id: 'e1',
        deviceId: 'device-ffff-0006',
        startedAt: new Date(now).toISOString(),
        durationSeconds: 95,
        data: { campaign: 'spring' },
      },
      { id: 'e2', deviceId: 'device-never-seen', startedAt: new Date(now).toISOString() },
      {
        id: 'e3',
        deviceId: 'device-ffff-0006',
        startedAt: new Date(now).toISOString(),
        durationSeconds: 10,
      },
      {
        id: 'e6',
        deviceId: 'device-ffff-0006',
        startedAt: new Date(now + 3_600_000).toISOString(),
      },
      { id: 'e1', deviceId: 'device-ffff-0006', startedAt: new Date(now).toISOString() },
      { id: 'e4', deviceId: 'device-ffff-0006', startedAt: '2025-02-30T25:00:00Z' },
      {
        id: 'e5',
        deviceId: 'device-ffff-0006',
        startedAt: new Date(now).toISOString(),
        colour: 'red',
      },
    ];
    const res = await gw.apiRequest<{
      results: { id?: string; status: string; reason?: string; impressionId?: string }[];
      summary: Record<string, number>;
      error: null;
    }>('POST', '/v1/call-entries?tenant=acme', entries);
    expect(res.status).toBe(200);
    expect(
      res.body.results.map((r) => [r.id, r.status, r.reason ?? r.impressionId ?? null]),
    ).toEqual([
      ['e1', 'matched', impressionId],
      ['e2', 'unmatched', 'no_device'],
      // Shorter than D (60 s) under the time-and-duration rule.
      ['e3', 'unmatched', 'outside_threshold'],
      ['e6', 'invalid', 'startedAt: in the future'],
      ['e1', 'duplicate', null],
      ['e4', 'invalid', expect.stringMatching(/startedAt/)],
      ['e5', 'invalid', 'unknown field "colour"'],
    ]);
    expect(res.body.summary).toEqual({
      received: 7,
      matched: 1,
      unmatched: 2,
      duplicate: 1,
      invalid: 3,
    });
    const impression = await gw.api<{ callEntries: { entryId: string; data: unknown }[] }>(
      `/v1/impressions/${impressionId}`,
    );
    expect(impression.body.callEntries).toEqual([
      expect.objectContaining({ entryId: 'e1', data: { campaign: 'spring' } }),
    ]);
  });

  it('reads CSV entries, says which rows are bad, and stops at broken quoting', async () => {
    const now = new Date().toISOString();
    const post = async (csv: string) => {
      const res = await fetch(`${gw.gateway.httpUrl}/v1/call-entries?tenant=acme`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/csv' },
        body: csv,
      });
      return (await res.json()) as {
        results: { at: string; id?: string; status: string; reason?: string }[];
        error: { at: string; reason: string } | null;
      };
    };
    const ok = await post(
      `id,deviceId,startedAt,durationSeconds,data.campaign\nc1,device-ffff-0006,${now},120,"summer, north"\nc2,device-ffff-0006,${now}\nc3,nobody-here,${now},5,x\n`,
    );
    expect(ok.results.map((r) => [r.at, r.status])).toEqual([
      ['row 1', 'matched'],
      ['row 2', 'invalid'],
      ['row 3', 'unmatched'],
    ]);
    expect(ok.error).toBeNull();
    const broken = await post(
      `id,deviceId,startedAt\nq1,device-ffff-0006,${now}\nq2,"device-ffff-0006,${now}\nq3,device-ffff-0006,${now}\n`,
    );
    expect(broken.results.map((r) => r.id)).toEqual(['q1']);
    expect(broken.error?.reason).toMatch(/CSV .*Quote.*nothing from this line on was read/);
    const header = await post(`id,device,startedAt\nz1,d,${now}\n`);
    expect(header.results).toEqual([]);
    expect(header.error?.reason).toMatch(/unknown column "device"/);
  });

  it('reports per listing, advertiser and publisher as JSON and CSV', async () => {
    const json = await gw.api<{
      rows: {
        id: string;
        impressions: number;
        calls: number;
        qualified: number;
        spendCents: number;
      }[];
      totals: {
        id: string;
        calls: number;
        qualified: number;
        spendCents: number;
        costPerCallCents: number;
        answerRate: number;
      }[];
    }>('/v1/reports/advertisers');
    expect(json.status).toBe(200);
    const total = json.body.totals.find((t) => t.id === advertiser.id);
    expect(total, JSON.stringify(json.body)).toMatchObject({
      calls: 2,
      qualified: 2,
      spendCents: 1000 + 900 - 250,
      answerRate: 1,
    });
    const byListing = await gw.api<{ totals: { id: string; impressions: number }[] }>(
      `/v1/reports/listings/${listings['high']?.id}`,
    );
    expect(byListing.body.totals[0]?.impressions).toBeGreaterThanOrEqual(5);
    const csv = await fetch(`${gw.gateway.httpUrl}/v1/reports/publishers?format=csv`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe(
      'day,id,impressions,calls,answered,qualified,spendCents,costPerCallCents,answerRate',
    );
    expect(lines.some((l) => l.includes(publisher.id))).toBe(true);
  });
});
