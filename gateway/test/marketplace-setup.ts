/**
 * The marketplace a call test needs: an advertiser with money, a publisher
 * whose page is on `PAGE_ORIGIN`, and the advertiser's plumbing listing to
 * the `sales` queue (`listing-call.sipp.test.ts`, `tracked-call.sipp.test.ts`).
 */
import { expect } from 'vitest';
import { TENANT, type TestGateway } from './harness.js';

export const PAGE_ORIGIN = 'https://news.example';

export interface PlumberListing {
  readonly advertiserId: string;
  readonly publisherId: string;
  readonly placementKey: string;
  readonly listingId: string;
}

/** Bid 1000 cents, qualified after 1 connected second; the advertiser holds 100 000 cents. */
export async function plumberListing(gw: TestGateway): Promise<PlumberListing> {
  const advertiser = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
    tenant: TENANT,
    name: 'Bob the Plumber',
    initialBalanceCents: 100_000,
  });
  expect(advertiser.status).toBe(201);
  const advertiserId = advertiser.body.id;
  const publisher = await gw.apiRequest<{ id: string; placementKey: string }>(
    'POST',
    '/v1/publishers',
    { tenant: TENANT, name: 'Daily News', origins: [PAGE_ORIGIN] },
  );
  expect(publisher.status).toBe(201);
  const listing = await gw.apiRequest<{ id: string }>('POST', '/v1/listings', {
    advertiserId,
    title: 'Plumber',
    category: 'plumbing',
    region: 'US',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 1000,
    dailyBudgetCents: 100_000,
    qualification: { minConnectedSeconds: 1 },
  });
  expect(listing.status, JSON.stringify(listing.body)).toBe(201);
  return {
    advertiserId,
    publisherId: publisher.body.id,
    placementKey: publisher.body.placementKey,
    listingId: listing.body.id,
  };
}

/** One plumbing slot on the publisher's local page, as the page's script asks for it. */
export async function placeOne<Slot>(
  gw: TestGateway,
  placementKey: string,
  deviceId: string,
): Promise<{ slots: Slot[] }> {
  const res = await fetch(`${gw.gateway.httpUrl}/v1/placements`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: PAGE_ORIGIN },
    body: JSON.stringify({
      publisher: placementKey,
      category: 'plumbing',
      region: 'US-CA',
      slots: 1,
      deviceId,
      page: 'https://news.example/local',
    }),
  });
  return (await res.json()) as { slots: Slot[] };
}
