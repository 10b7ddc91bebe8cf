/**
 * `POST /v1/placements`: a publisher's page asks for listings to show.
 *
 * How the page is trusted: the publisher's placement key (public, it is in the
 * page) names the publisher, the page's Origin must be one of the publisher's
 * origins, and three token buckets bound what anyone can take with them (per
 * visitor device, per publisher, per source address). A device reloading the
 * page gets the numbers it already holds, so a stranger with the key drains
 * at most the per-address and per-publisher rates, not the pool.
 */
import { Router } from 'express';
import { ParleyError } from '@parley/shared/errors';
import { TokenBuckets } from '../../sbc/token-bucket.js';
import type { Marketplace } from '../marketplace.js';
import { describeIssue, placementSchema } from '../validation.js';

export function placementRoutes(m: Marketplace): Router {
  const router = Router();
  const limits = m.config.placement.rateLimit;
  const now = () => m.now();
  const perDevice = new TokenBuckets({ ...limits.perDevice, now });
  const perPublisher = new TokenBuckets({ ...limits.perPublisher, now });
  const perAddress = new TokenBuckets({ ...limits.perAddress, now });
  const refuse = (result: string, error: ParleyError): ParleyError => {
    m.metrics?.placements.inc({ result });
    return error;
  };

  router.post('/placements', async (req, res) => {
    const parsed = placementSchema.safeParse(req.body ?? {});
    if (!parsed.success)
      throw refuse(
        'refused',
        new ParleyError('bad_request', describeIssue(parsed.error), { expose: true }),
      );
    const input = parsed.data;
    const publisher = m.registry.publisherByKey(input.publisher);
    if (!publisher || publisher.status !== 'active')
      throw refuse(
        'refused',
        new ParleyError('unauthorized', 'unknown or disabled placement key', { expose: true }),
      );
    const origin = req.header('origin');
    if (!origin || !publisher.origins.includes(origin))
      throw refuse(
        'refused',
        new ParleyError(
          'origin_not_allowed',
          `origin ${origin ?? '(none)'} is not one of the publisher's`,
          { expose: true },
        ),
      );
    if (input.slots > m.config.placement.maxSlots)
      throw refuse(
        'refused',
        new ParleyError('bad_request', `slots: at most ${m.config.placement.maxSlots}`, {
          expose: true,
        }),
      );
    const p = publisher;
    if (
      !perAddress.take(req.ip ?? 'unknown') ||
      !perPublisher.take(p.id) ||
      !perDevice.take(`${p.id}\u0000${input.deviceId}`)
    ) {
      res.setHeader('retry-after', '5');
      throw refuse(
        'rate_limited',
        new ParleyError(
          'rate_limited',
          'too many placements from this device, address or publisher',
          { expose: true },
        ),
      );
    }
    const result = await m.placements.place({
      publisher: p,
      category: input.category,
      region: input.region,
      slots: input.slots,
      deviceId: input.deviceId,
      page: input.page ?? null,
    });
    res.set('cache-control', 'no-store').json({
      placementId: result.placementId,
      slots: result.slots.map((s) => ({
        slot: s.slot,
        impressionId: s.impressionId,
        // What the page's call button sends back: the impression sealed to its listing and device.
        reference: m.seal.seal({
          id: s.impressionId,
          listingId: s.listing.id,
          deviceId: input.deviceId,
        }),
        listing: s.listing,
        number: s.number,
        numberKind: s.numberKind,
        leaseEndsAt: new Date(s.leaseEnd).toISOString(),
      })),
    });
  });

  return router;
}
