/**
 * A listing whose number destination the trunks' outbound rules refuse after
 * a restart (the rules changed; issue 12): warned at start-up, not placed in
 * auctions (its API view says why), and a call to it still reaches the call
 * path marked `blocked` (refused there with `number_not_allowed`, recorded).
 */
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { LEDGER_SCHEMA } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { listingView } from './api/views.js';
import type { MarketplaceEnvironment } from './environment.js';
import { Marketplace } from './marketplace.js';
import { MARKETPLACE_SCHEMA } from './schema.js';

const NOW = Date.UTC(2026, 11, 6, 15, 0);
const dirs: string[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The trunk's rules of one start: numbers under `deny` are refused. */
const environment = (deny: string | undefined): MarketplaceEnvironment => ({
  tenantExists: () => true,
  queueTenant: () => 'acme',
  agentTenant: () => undefined,
  outboundRefusal: (_tenant, _trunk, number) =>
    deny !== undefined && number.startsWith(deny)
      ? {
          rule: 'trunks.carrier.outbound.denyPrefixes',
          kind: 'number',
          detail: `${number} is refused by trunks.carrier.outbound.denyPrefixes (${deny})`,
        }
      : undefined,
});

async function open(path: string, deny: string | undefined, env = environment(deny)) {
  const db = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const m = new Marketplace({
    db,
    config: configSchema.shape.marketplace.parse({}),
    environment: env,
    logger: createLogger('warn', sink),
    now: () => NOW,
  });
  closers.push(
    () => m.close(),
    () => db.close(),
  );
  await m.start();
  return { m, lines };
}

describe('a listing whose number the trunk refuses after a restart', () => {
  it('is warned about at start-up and not placed (the view says why), while its calls still come to the call path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-refused-'));
    dirs.push(dir);
    const path = join(dir, 'p.db');
    const first = await open(path, undefined);
    const advertiser = await first.m.registry.createAdvertiser(undefined, {
      tenant: 'acme',
      name: 'Ads',
      initialBalanceCents: 100_000,
    });
    const publisher = await first.m.registry.createPublisher(undefined, {
      tenant: 'acme',
      name: 'News',
      origins: ['https://news.example'],
    });
    const make = (title: string, number: string, bidCents: number) =>
      first.m.registry.createListing(undefined, {
        advertiserId: advertiser.id,
        title,
        category: 'plumbing',
        destination: { kind: 'number', number, trunk: 'carrier' },
        bidCents,
        dailyBudgetCents: 50_000,
      });
    // The premium one bids more: it would win the first slot.
    const premium = make('Premium line', '+19005550199', 900);
    const plain = make('Plain line', '+14155550199', 500);
    expect(first.lines.filter((l) => l['listing'] !== undefined)).toEqual([]);
    first.m.close();

    // Restarted with denyPrefixes ["+1900"].
    const again = await open(path, '+1900');
    const warnings = again.lines.filter((l) => l['listing'] === premium.id);
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 40,
        code: 'number_not_allowed',
        detail:
          'destination.number: +19005550199 is refused by trunks.carrier.outbound.denyPrefixes (+1900)',
        msg: expect.stringContaining('not placed in auctions'),
      }),
    ]);
    expect(again.lines.filter((l) => l['listing'] === plain.id)).toEqual([]);

    const placed = await again.m.placements.place({
      publisher,
      category: 'plumbing',
      region: 'US',
      slots: 2,
      deviceId: 'dev-1',
      page: null,
    });
    expect(placed.slots.map((s) => s.listing.id)).toEqual([plain.id]);
    const decision = (await again.m.impressions.placement(placed.placementId))?.decision;
    expect(decision?.['excluded']).toEqual({ destination_refused: 1 });

    const view = (id: string) =>
      listingView(again.m.registry.listing(undefined, id), again.m.index, NOW, 'example.com');
    expect(view(premium.id)).toMatchObject({
      eligible: false,
      ineligibleReason: 'destination_refused',
      ineligibleDetail:
        'number_not_allowed: destination.number: +19005550199 is refused by trunks.carrier.outbound.denyPrefixes (+1900)',
    });
    expect(view(plain.id)).toMatchObject({ eligible: true, ineligibleReason: null });

    // A caller who dials it anyway reaches the call path, which refuses it there (recorded, never dialled).
    expect(await again.m.hooks.matchWeb({ listingId: premium.id, at: NOW })).toMatchObject({
      routable: true,
      blocked: { code: 'number_not_allowed' },
    });

    // The destination changed to an allowed number: placed again.
    again.m.registry.updateListing(undefined, premium.id, {
      destination: { kind: 'number', number: '+14155550198', trunk: 'carrier' },
    });
    expect(view(premium.id)).toMatchObject({ eligible: true });
    const after = await again.m.placements.place({
      publisher,
      category: 'plumbing',
      region: 'US',
      slots: 2,
      deviceId: 'dev-2',
      page: null,
    });
    expect(after.slots.map((s) => s.listing.id)).toEqual([premium.id, plain.id]);
  });

  it('a static number no trunk routes to the tenant any more is warned about at start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-refused-'));
    dirs.push(dir);
    const path = join(dir, 'p.db');
    const routed = (numbers: string[]): MarketplaceEnvironment => ({
      ...environment(undefined),
      inboundNumber: (n) =>
        numbers.includes(n) ? { trunk: 'carrier', tenant: 'acme' } : undefined,
    });
    const first = await open(path, undefined, routed(['+14155550150']));
    const advertiser = await first.m.registry.createAdvertiser(undefined, {
      tenant: 'acme',
      name: 'Ads',
    });
    const l = first.m.registry.createListing(undefined, {
      advertiserId: advertiser.id,
      title: 'Static',
      category: 'plumbing',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 500,
      dailyBudgetCents: 50_000,
      staticNumber: '+14155550150',
    });
    first.m.close();
    const again = await open(path, undefined, routed([]));
    expect(again.lines.filter((line) => line['listing'] === l.id)).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "a listing's static number no longer fits the trunks and pools of the config",
        detail: expect.stringContaining('+14155550150 is not an inbound number of any trunk'),
      }),
    ]);
  });
});
