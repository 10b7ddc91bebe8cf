import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { LEDGER_SCHEMA } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { Marketplace } from './marketplace.js';
import { MARKETPLACE_SCHEMA } from './schema.js';

async function world(balance = 10_000) {
  let now = Date.UTC(2025, 0, 15, 12, 0);
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
    now: () => now,
  });
  await m.start();
  const advertiser = await m.registry.createAdvertiser(undefined, {
    tenant: 'acme',
    name: 'A',
    initialBalanceCents: balance,
  });
  const listing = m.registry.createListing(undefined, {
    advertiserId: advertiser.id,
    title: 'L',
    category: 'plumbing',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 1000,
    dailyBudgetCents: 100_000,
    qualification: { minConnectedSeconds: 60 },
  });
  const start = async (callId: string) => {
    const match = await m.hooks.matchWeb({ listingId: listing.id, at: now });
    if (!match) throw new Error('no match');
    await m.hooks.callStarted(callId, match, now);
  };
  return { m, db, listing, advertiser, start, tick: (ms: number) => (now += ms), now: () => now };
}

describe('billing hooks', () => {
  it('charges only after the minimum connected time, once', async () => {
    const w = await world();
    await w.start('c1');
    const connectedAt = w.now();
    expect(await w.m.hooks.advertiserConnected('c1', connectedAt)).toEqual({
      qualifiesAt: connectedAt + 60_000,
    });
    expect(await w.m.hooks.qualify('c1', connectedAt + 59_999)).toEqual({
      status: 'not_yet',
      qualifiesAt: connectedAt + 60_000,
    });
    expect(await w.m.hooks.qualify('c1', connectedAt + 60_000)).toMatchObject({
      status: 'charged',
      amount: 1000,
    });
    expect(await w.m.hooks.callEnded('c1', connectedAt + 90_000)).toMatchObject({
      status: 'duplicate',
    });
    expect(w.m.accounts.ledger.verify()).toEqual([]);
  });

  it('never charges a call that ended short, nor one that never connected', async () => {
    const w = await world();
    await w.start('short');
    await w.m.hooks.advertiserConnected('short', w.now());
    expect(await w.m.hooks.callEnded('short', w.now() + 30_000)).toMatchObject({
      status: 'not_yet',
    });
    await w.start('unanswered');
    expect(await w.m.hooks.qualify('unanswered', w.now() + 120_000)).toEqual({
      status: 'not_connected',
    });
    expect(await w.m.hooks.callEnded('unanswered', w.now() + 120_000)).toEqual({
      status: 'not_connected',
    });
    expect(w.m.accounts.ledger.list({ limit: 10 }).filter((t) => t.kind === 'charge')).toEqual([]);
  });

  it('charges at the end a qualified call whose timer never ran', async () => {
    const w = await world();
    await w.start('late');
    await w.m.hooks.advertiserConnected('late', w.now());
    expect(await w.m.hooks.callEnded('late', w.now() + 75_000)).toMatchObject({
      status: 'charged',
      amount: 1000,
    });
  });

  it('after a crash, charges the calls that had qualified before the last heartbeat, and only those', async () => {
    const w = await world();
    await w.start('due');
    await w.m.hooks.advertiserConnected('due', w.now());
    await w.start('young');
    await w.m.hooks.advertiserConnected('young', w.now() + 30_000);
    await w.m.billing.heartbeat(w.now() + 61_000);
    // The process dies here; a new one starts on the same file.
    expect(await w.m.billing.recover(w.now() + 600_000)).toEqual({ charged: 1, closed: 2 });
    expect((await w.m.calls.get('due'))?.charged).toBe(1000);
    expect((await w.m.calls.get('young'))?.qualifiedAt).toBeNull();
    expect(await w.m.billing.recover(w.now() + 700_000)).toEqual({ charged: 0, closed: 0 });
  });

  it('qualifyCall records, connects and charges in one call, once', async () => {
    const w = await world();
    const match = await w.m.hooks.matchWeb({ listingId: w.listing.id, at: w.now() });
    if (!match) throw new Error('no match');
    const input = { callId: 'one', match, connectedAt: w.now(), now: w.now() + 60_000 };
    expect(await w.m.hooks.qualifyCall({ ...input, now: w.now() + 10_000 })).toMatchObject({
      status: 'not_yet',
    });
    expect(await w.m.hooks.qualifyCall(input)).toMatchObject({ status: 'charged', amount: 1000 });
    expect(await w.m.hooks.qualifyCall(input)).toMatchObject({ status: 'duplicate' });
    expect(await w.m.calls.get('one')).toMatchObject({
      charged: 1000,
      connectedAt: input.connectedAt,
    });
  });

  it('pauses a listing when the advertiser cannot pay another call, and resumes it on a deposit', async () => {
    const w = await world(1500);
    await w.start('c1');
    await w.m.hooks.advertiserConnected('c1', w.now() - 60_000);
    expect(await w.m.hooks.qualify('c1', w.now())).toMatchObject({ status: 'charged' });
    expect(w.m.registry.listing(undefined, w.listing.id)).toMatchObject({
      status: 'paused',
      pauseReason: 'insufficient_funds',
    });
    expect(await w.m.hooks.matchWeb({ listingId: w.listing.id, at: w.now() })).toMatchObject({
      routable: false,
      reason: 'insufficient_funds',
    });
    await w.m.registry.deposit(undefined, w.advertiser.id, { amountCents: 5000 }, 'topup-1');
    expect(w.m.registry.listing(undefined, w.listing.id)).toMatchObject({
      status: 'active',
      pauseReason: null,
    });
  });
});
