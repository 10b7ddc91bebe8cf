/** `marketplace`: the pay-per-call marketplace's settings, and each tenant's tracking numbers (docs/marketplace.md). */
import { z } from 'zod';
import { e164 } from './primitives.js';

const bucket = (perSecond: number, burst: number) =>
  z
    .strictObject({
      perSecond: z.number().positive().default(perSecond),
      burst: z.number().int().positive().default(burst),
    })
    .prefault({});

/** The pay-per-call marketplace of one tenant (docs/marketplace.md). */
const marketplaceTenant = z.strictObject({
  /** DIDs leased one per impression (S3's virtual numbers); the trunk must route them to the gateway. */
  trackingNumbers: z
    .strictObject({
      ranges: z.array(z.strictObject({ from: e164, to: e164 })).default([]),
      numbers: z.array(e164).default([]),
      /** How long an impression holds its number. */
      leaseSeconds: z.number().int().min(30).max(86_400).default(900),
      /** A call this long after the lease ended still counts, while the number was not leased again. */
      graceSeconds: z.number().int().min(0).max(604_800).default(3600),
    })
    .prefault({}),
  /** Shown when the pool is exhausted and the listing has no static number of its own. */
  fallbackNumber: e164.optional(),
  /** How `POST /v1/call-entries` matches a content provider's entry to a logged impression. */
  callEntries: z
    .strictObject({
      /** `time`: started within windowSeconds of the impression; `duration`: lasted minDurationSeconds; or both / either. */
      rule: z.enum(['time', 'duration', 'time-and-duration', 'time-or-duration']).default('time'),
      windowSeconds: z.number().int().min(1).max(2_592_000).default(3600),
      minDurationSeconds: z.number().int().min(0).max(86_400).default(0),
    })
    .prefault({}),
});

/** `marketplace`: the pay-per-call marketplace (docs/marketplace.md). */
export const marketplace = z.strictObject({
  /** ISO 4217 currency of every amount; the API takes and gives minor units (cents). */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
  /** The least a slot costs, in minor units; listings bidding less are not placed. */
  reserveCents: z.number().int().min(0).max(1_000_000).default(100),
  /** A publisher's share of each charge unless the publisher sets its own. */
  publisherSharePercent: z.number().int().min(0).max(100).default(50),
  /**
   * `POST /v1/call-entries` bodies of at least this many bytes (or of no
   * announced length) are parsed on a thread of their own, beside the
   * matching in the gateway's; `null`: never (docs/marketplace.md).
   */
  callEntriesParseThreadBytes: z.number().int().min(0).nullable().default(null),
  /** IANA time zone of budget days and report days. */
  timeZone: z.string().min(1).default('UTC'),
  /** The quality score's neutral start (docs/marketplace.md, "Quality"). */
  quality: z
    .strictObject({
      priorCalls: z.number().gt(0).max(1000).default(10),
      priorAnswerRate: z.number().gt(0).max(1).default(0.5),
      priorQualificationRate: z.number().gt(0).max(1).default(0.5),
      /** Floor of the score (a listing never ranks as if it had quality 0). */
      min: z.number().gt(0).max(1).default(0.1),
    })
    .prefault({}),
  placement: z
    .strictObject({
      maxSlots: z.number().int().min(1).max(20).default(10),
      /** Placements per visitor device, per publisher and per source address (token buckets). */
      rateLimit: z
        .strictObject({
          perDevice: bucket(0.2, 10),
          perPublisher: bucket(200, 400),
          perAddress: bucket(2, 30),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Per tenant: tracking numbers and call-entry matching. */
  tenants: z.record(z.string().min(1), marketplaceTenant).default({}),
});
