/**
 * A callback asked from a listing's page names the impression the page
 * showed (`impressionId`): a claim of the visitor's browser. Only a
 * reference the marketplace sealed for that listing is kept on the callback;
 * a bare id, another impression's seal or a forged one is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { LEDGER_SCHEMA } from '../ledger/index.js';
import { MARKETPLACE_SCHEMA, Marketplace } from '../marketplace/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { marketplaceListings } from './marketplace-ports.js';

const NOW = Date.UTC(2026, 11, 6, 15, 0);
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

describe("the callbacks' listing source", () => {
  it('keeps the impression only when its sealed reference proves it', async () => {
    const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
    const m = new Marketplace({
      db,
      config: configSchema.shape.marketplace.parse({}),
      environment: {
        tenantExists: () => true,
        queueTenant: () => 'acme',
        agentTenant: () => undefined,
      },
      logger: createLogger('silent'),
      now: () => NOW,
    });
    closers.push(
      () => m.close(),
      () => db.close(),
    );
    await m.start();
    const advertiser = await m.registry.createAdvertiser(undefined, {
      tenant: 'acme',
      name: 'Ads',
      initialBalanceCents: 100_000,
    });
    const publisher = await m.registry.createPublisher(undefined, {
      tenant: 'acme',
      name: 'News',
      origins: ['https://news.example'],
    });
    const make = (title: string) =>
      m.registry.createListing(undefined, {
        advertiserId: advertiser.id,
        title,
        category: 'plumbing',
        destination: { kind: 'queue', queue: 'sales' },
        bidCents: 500,
        dailyBudgetCents: 50_000,
      });
    const [one, two] = [make('One'), make('Two')];
    const placed = await m.placements.place({
      publisher,
      category: 'plumbing',
      region: 'US',
      slots: 2,
      deviceId: 'dev-1',
      page: null,
    });
    const slotOf = (id: string) => placed.slots.find((s) => s.listing.id === id);
    const shown = slotOf(one.id);
    const other = slotOf(two.id);
    if (!shown || !other) throw new Error('not placed');
    const sealed = (s: typeof shown) =>
      m.seal.seal({ id: s.impressionId, listingId: s.listing.id, deviceId: 'dev-1' });
    const source = marketplaceListings(m);
    const impressionOf = async (claim: string | undefined) =>
      (await source.listing(one.id, claim, NOW))?.impressionId;

    expect(await impressionOf(sealed(shown))).toBe(shown.impressionId);
    expect(await impressionOf(undefined)).toBeNull();
    // The bare id, another listing's sealed impression, a forged seal: claims, not kept.
    expect(await impressionOf(shown.impressionId)).toBeNull();
    expect(await impressionOf(sealed(other))).toBeNull();
    expect(await impressionOf(`${shown.impressionId}.AAAAAAAAAAAAAAAAAAAAAA`)).toBeNull();
    // The listing is still offered either way (the callback goes through, unattributed).
    expect(await source.listing(one.id, shown.impressionId, NOW)).toMatchObject({
      advertiserId: advertiser.id,
      title: 'One',
    });
  });
});
