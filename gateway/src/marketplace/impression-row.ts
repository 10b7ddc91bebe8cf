import type { Impression } from './model.js';

/** An impression's row, the same in SQLite and PostgreSQL. */
export interface ImpressionRow {
  id: string;
  tenant: string;
  placement_id: string;
  listing_id: string;
  advertiser_id: string;
  publisher_id: string;
  slot: number;
  price: number;
  bid: number;
  quality: number;
  device_id: string;
  page: string | null;
  number: string | null;
  number_kind: Impression['numberKind'];
  lease_start: number;
  lease_end: number;
  created_at: number;
}

export const impressionOf = (r: ImpressionRow): Impression => ({
  id: r.id,
  tenant: r.tenant,
  placementId: r.placement_id,
  listingId: r.listing_id,
  advertiserId: r.advertiser_id,
  publisherId: r.publisher_id,
  slot: r.slot,
  price: r.price,
  bid: r.bid,
  quality: r.quality,
  deviceId: r.device_id,
  page: r.page,
  number: r.number,
  numberKind: r.number_kind,
  leaseStart: r.lease_start,
  leaseEnd: r.lease_end,
  createdAt: r.created_at,
});
