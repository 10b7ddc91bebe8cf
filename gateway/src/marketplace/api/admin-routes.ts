/**
 * Managing the marketplace: advertisers (with deposits), publishers, listings,
 * refunds; reading impressions, placement decisions, calls and the ledger.
 * GET needs the `read` scope, everything else `marketplace`.
 */
import { Router, type Request } from 'express';
import { ParleyError } from '@parley/shared/errors';
import { assertScope, canSee, principalOf } from '../../http/api-auth.js';
import { accountId } from '../accounts.js';
import type { Marketplace } from '../marketplace.js';
import {
  advertiserView,
  callView,
  impressionView,
  listingView,
  publisherView,
  transactionView,
} from './views.js';

const idempotencyKey = (req: Request): string | undefined => {
  const key = req.header('idempotency-key');
  return key && key.length <= 128 ? key : undefined;
};

const limitOf = (req: Request) =>
  Math.min(Math.max(Number(req.query['limit'] ?? 100) || 100, 1), 1000);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

export function adminRoutes(m: Marketplace, sipDomain: string): Router {
  const router = Router();
  const viewer = (res: Parameters<typeof principalOf>[0]) => principalOf(res)?.tenant;
  const listing = (l: Parameters<typeof listingView>[0]) =>
    listingView(l, m.index, m.now(), sipDomain);

  router.post('/advertisers', async (req, res) => {
    assertScope(res, 'marketplace');
    const created = await m.registry.createAdvertiser(viewer(res), req.body);
    res.status(201).json(await advertiserView(created, m.accounts));
  });
  router.get('/advertisers', async (_req, res) => {
    assertScope(res, 'read');
    res.json({
      advertisers: await Promise.all(
        m.registry.advertisers(viewer(res)).map((a) => advertiserView(a, m.accounts)),
      ),
    });
  });
  router.get('/advertisers/:id', async (req, res) => {
    assertScope(res, 'read');
    res.json(await advertiserView(m.registry.advertiser(viewer(res), req.params.id), m.accounts));
  });
  router.patch('/advertisers/:id', async (req, res) => {
    assertScope(res, 'marketplace');
    const updated = await m.registry.updateAdvertiser(viewer(res), req.params.id, req.body);
    res.json(await advertiserView(updated, m.accounts));
  });
  router.post('/advertisers/:id/deposits', async (req, res) => {
    assertScope(res, 'marketplace');
    const result = await m.registry.deposit(
      viewer(res),
      req.params.id,
      req.body,
      idempotencyKey(req),
    );
    const advertiser = m.registry.advertiser(viewer(res), req.params.id);
    res.status(result.duplicate ? 200 : 201).json({
      duplicate: result.duplicate,
      transaction: transactionView(result.transaction),
      advertiser: await advertiserView(advertiser, m.accounts),
    });
  });
  router.get('/advertisers/:id/ledger', async (req, res) => {
    assertScope(res, 'read');
    const a = m.registry.advertiser(viewer(res), req.params.id);
    res.json({
      account: accountId.advertiser(a.id),
      balanceCents: await m.accounts.balanceNow(accountId.advertiser(a.id)),
      transactions: (
        await m.accounts.book.list({ account: accountId.advertiser(a.id), limit: limitOf(req) })
      ).map(transactionView),
    });
  });

  router.post('/publishers', async (req, res) => {
    assertScope(res, 'marketplace');
    const created = await m.registry.createPublisher(viewer(res), req.body);
    res.status(201).json(await publisherView(created, m.accounts));
  });
  router.get('/publishers', async (_req, res) => {
    assertScope(res, 'read');
    res.json({
      publishers: await Promise.all(
        m.registry.publishers(viewer(res)).map((p) => publisherView(p, m.accounts)),
      ),
    });
  });
  router.get('/publishers/:id', async (req, res) => {
    assertScope(res, 'read');
    res.json(await publisherView(m.registry.publisher(viewer(res), req.params.id), m.accounts));
  });
  router.patch('/publishers/:id', async (req, res) => {
    assertScope(res, 'marketplace');
    const updated = m.registry.updatePublisher(viewer(res), req.params.id, req.body);
    await m.registry.written();
    res.json(await publisherView(updated, m.accounts));
  });

  router.post('/listings', async (req, res) => {
    assertScope(res, 'marketplace');
    const created = m.registry.createListing(viewer(res), req.body);
    await m.registry.written();
    res.status(201).json(listing(created));
  });
  router.get('/listings', (req, res) => {
    assertScope(res, 'read');
    res.json({
      listings: m.registry.listings(viewer(res), text(req.query['advertiserId'])).map(listing),
    });
  });
  router.get('/listings/:id', (req, res) => {
    assertScope(res, 'read');
    res.json(listing(m.registry.listing(viewer(res), req.params.id)));
  });
  router.patch('/listings/:id', async (req, res) => {
    assertScope(res, 'marketplace');
    const updated = m.registry.updateListing(viewer(res), req.params.id, req.body);
    await m.registry.written();
    res.json(listing(updated));
  });

  router.get('/placements/:id', async (req, res) => {
    assertScope(res, 'read');
    const p = await m.impressions.placement(req.params.id);
    if (!p || !canSee(principalOf(res), p.tenant))
      throw new ParleyError('not_found', 'no such placement', { expose: true });
    res.json({
      ...p,
      createdAt: new Date(p.createdAt).toISOString(),
      impressions: (await m.impressions.byPlacement(p.id)).map(impressionView),
    });
  });

  router.get('/impressions', async (req, res) => {
    assertScope(res, 'read');
    const tenant = viewer(res);
    res.json({
      impressions: (
        await m.impressions.list({
          ...(tenant === undefined ? {} : { tenant }),
          ...(text(req.query['publisherId'])
            ? { publisherId: text(req.query['publisherId']) }
            : {}),
          ...(text(req.query['listingId']) ? { listingId: text(req.query['listingId']) } : {}),
          limit: limitOf(req),
        })
      ).map(impressionView),
    });
  });
  router.get('/impressions/:id', async (req, res) => {
    assertScope(res, 'read');
    const i = await m.impressions.impression(req.params.id);
    if (!i || !canSee(principalOf(res), i.tenant))
      throw new ParleyError('not_found', 'no such impression', { expose: true });
    res.json({
      ...impressionView(i),
      callEntries: (await m.entryStore.byImpression(i.id)).map((e) => ({
        entryId: e.entryId,
        deviceId: e.deviceId,
        number: e.number,
        startedAt: new Date(e.startedAt).toISOString(),
        durationSeconds: e.durationSeconds,
        data: JSON.parse(e.data) as unknown,
      })),
    });
  });

  router.get('/marketplace/calls', async (req, res) => {
    assertScope(res, 'read');
    const tenant = viewer(res);
    res.json({
      calls: (
        await m.calls.list({
          ...(tenant === undefined ? {} : { tenant }),
          ...(text(req.query['listingId']) ? { listingId: text(req.query['listingId']) } : {}),
          limit: limitOf(req),
        })
      ).map(callView),
    });
  });
  router.get('/marketplace/calls/:id', async (req, res) => {
    assertScope(res, 'read');
    const c = await m.calls.get(req.params.id);
    if (!c || !canSee(principalOf(res), c.tenant))
      throw new ParleyError('not_found', 'no such marketplace call', { expose: true });
    res.json(callView(c));
  });
  router.get('/marketplace/numbers', async (_req, res) => {
    assertScope(res, 'read');
    const tenants = Object.keys(m.config.tenants).filter((t) => canSee(principalOf(res), t));
    const pools = await Promise.all(tenants.map(async (t) => [t, (await m.numbers(t)) ?? null]));
    res.json({ pools: Object.fromEntries(pools) });
  });
  router.get('/marketplace/ledger', async (req, res) => {
    assertScope(res, 'read');
    const tenant = viewer(res);
    res.json({
      transactions: (
        await m.accounts.book.list({
          ...(tenant === undefined ? {} : { tenant }),
          limit: limitOf(req),
        })
      ).map(transactionView),
    });
  });

  router.post('/refunds', async (req, res) => {
    assertScope(res, 'marketplace');
    const result = await m.billing.refund(viewer(res), req.body, idempotencyKey(req), m.now());
    res.status(result.duplicate ? 200 : 201).json({
      duplicate: result.duplicate,
      amountCents: result.amount,
      transaction: transactionView(result.transaction),
    });
  });

  return router;
}
