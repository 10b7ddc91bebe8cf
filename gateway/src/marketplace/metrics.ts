import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The marketplace's Prometheus metrics, registered on the gateway's registry
 * (the module owns its metrics; `observability/metrics.ts` owns the core's).
 */
export class MarketplaceMetrics {
  readonly placements: Counter<'result'>;
  readonly impressions: Counter;
  readonly numbersExhausted: Counter<'tenant'>;
  readonly auctionSeconds: Histogram;
  readonly charges: Counter<'result'>;
  readonly chargedCents: Counter<'tenant'>;
  readonly callEntries: Counter<'result'>;
  readonly unattributed: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.placements = new Counter({
      name: 'parley_marketplace_placements_total',
      help: 'Placement requests, by result (placed, empty, rate_limited, refused).',
      labelNames: ['result'] as const,
      registers,
    });
    this.impressions = new Counter({
      name: 'parley_marketplace_impressions_total',
      help: 'Listings shown (impressions logged).',
      registers,
    });
    this.numbersExhausted = new Counter({
      name: 'parley_marketplace_numbers_exhausted_total',
      help: "Impressions shown with a static number because the tenant's tracking-number pool was exhausted.",
      labelNames: ['tenant'] as const,
      registers,
    });
    this.auctionSeconds = new Histogram({
      name: 'parley_marketplace_auction_seconds',
      help: 'Time to rank and price one placement (in memory, before leases and logging).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    this.charges = new Counter({
      name: 'parley_marketplace_charges_total',
      help: 'Qualification attempts, by result (charged, duplicate, not_yet, not_connected, ended_short).',
      labelNames: ['result'] as const,
      registers,
    });
    this.chargedCents = new Counter({
      name: 'parley_marketplace_charged_minor_units_total',
      help: 'Money charged to advertisers, in minor units of the marketplace currency.',
      labelNames: ['tenant'] as const,
      registers,
    });
    this.callEntries = new Counter({
      name: 'parley_marketplace_call_entries_total',
      help: 'Call entries received, by result (matched, unmatched, duplicate, invalid).',
      labelNames: ['result'] as const,
      registers,
    });
    this.unattributed = new Counter({
      name: 'parley_marketplace_unattributed_claims_total',
      help: 'Web calls whose claimed impression was not taken, by reason (unsealed, forged, unknown, other_listing, other_device, outside_lease).',
      labelNames: ['reason'] as const,
      registers,
    });
  }
}
