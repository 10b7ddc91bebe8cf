/**
 * What the marketplace API accepts (zod). Money is whole minor units (cents)
 * as JSON numbers: a string, a fraction, a negative or an absurd amount is
 * refused with the field named.
 */
import { isPossiblePhoneNumber } from 'libphonenumber-js';
import { z } from 'zod';
import { WEEKDAYS } from './model.js';
import { isTimeZone } from './zoned-time.js';

/** Largest bid per call: $10,000.00 (far above any real lead price, far below overflow). */
export const MAX_BID = 1_000_000;
/** Largest daily budget: $10,000,000.00. */
export const MAX_BUDGET = 1_000_000_000;
/** Largest deposit, balance or credit limit: $1,000,000,000.00. */
export const MAX_BALANCE = 100_000_000_000;

const cents = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a number of cents (a JSON number, not a string)` })
    .refine(Number.isInteger, `${what} must be a whole number of cents`)
    .refine((n) => n >= min, `${what} must be at least ${min}`)
    .refine((n) => n <= max, `${what} must be at most ${max} (${max / 100} in the currency)`);

const E164 = /^\+[1-9]\d{1,14}$/;
/** A dialable E.164 number (libphonenumber-js decides whether it can exist). */
export const phoneNumber = z
  .string()
  .regex(E164, 'must be an E.164 number, e.g. +14155550123')
  .refine((n) => isPossiblePhoneNumber(n), 'is not a possible phone number');

const tenant = z.string().min(1).max(64);
const name = z.string().trim().min(1).max(200);
const id = z.string().min(1).max(64);
/** Lower-case words: `plumbing`, `auto-insurance`. */
export const category = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    'must be lower-case letters, digits, - or _ (e.g. plumbing)',
  );
/** `*` or ISO 3166 codes with subdivisions: `US`, `US-CA`, `US-CA-SF`. */
export const region = z
  .string()
  .regex(
    /^(\*|[A-Z]{2}(-[A-Z0-9]{1,8}){0,3})$/,
    'must be * or a code like US, US-CA, US-CA-SF (upper case)',
  );

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00–24:00)');

export const scheduleSchema = z.strictObject({
  timeZone: z.string().refine(isTimeZone, 'is not an IANA time zone (e.g. America/New_York)'),
  windows: z
    .array(
      z
        .strictObject({
          days: z
            .array(z.enum(WEEKDAYS as unknown as [string, ...string[]]))
            .min(1)
            .max(7),
          from: hhmm,
          to: hhmm,
        })
        .refine((w) => w.from < w.to, { message: 'to must be after from', path: ['to'] }),
    )
    .min(1)
    .max(50),
});

export const destinationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('queue'), queue: id }),
  z.strictObject({ kind: z.literal('agent'), agent: id }),
  z.strictObject({
    kind: z.literal('number'),
    number: phoneNumber,
    trunk: id.optional(),
  }),
]);

export const advertiserCreate = z
  .strictObject({
    tenant: tenant.optional(),
    name,
    externalId: z.string().min(1).max(128).optional(),
    billing: z.enum(['prepaid', 'credit']).default('prepaid'),
    creditLimitCents: cents('creditLimitCents', 0, MAX_BALANCE).optional(),
    /** Paid in at creation (a ledgered deposit). */
    initialBalanceCents: cents('initialBalanceCents', 0, MAX_BALANCE).optional(),
  })
  .refine((a) => a.billing === 'credit' || a.creditLimitCents === undefined, {
    message: 'creditLimitCents needs billing "credit"',
    path: ['creditLimitCents'],
  });

export const advertiserUpdate = z.strictObject({
  name: name.optional(),
  externalId: z.string().min(1).max(128).nullable().optional(),
  billing: z.enum(['prepaid', 'credit']).optional(),
  creditLimitCents: cents('creditLimitCents', 0, MAX_BALANCE).optional(),
});

export const depositSchema = z.strictObject({
  amountCents: cents('amountCents', 1, MAX_BALANCE),
  /** Idempotency key (or the Idempotency-Key header): a repeat deposits nothing. */
  key: z.string().min(1).max(128).optional(),
  memo: z.string().max(500).optional(),
});

const origin = z.string().refine((o) => {
  try {
    const u = new URL(o);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o;
  } catch {
    return false;
  }
}, 'must be an origin like https://news.example (scheme, host, port; no path)');

export const publisherCreate = z.strictObject({
  tenant: tenant.optional(),
  name,
  origins: z.array(origin).min(1).max(50),
  sharePercent: z.number().int().min(0).max(100).optional(),
});

export const publisherUpdate = z.strictObject({
  name: name.optional(),
  origins: z.array(origin).min(1).max(50).optional(),
  sharePercent: z.number().int().min(0).max(100).optional(),
  status: z.enum(['active', 'disabled']).optional(),
  /** True: a new placement key replaces the old one (which stops working at once). */
  rotateKey: z.literal(true).optional(),
});

const qualification = z.strictObject({
  /** Connected at least this long for the call to be charged. */
  minConnectedSeconds: z.number().int().min(0).max(3600),
});

export const listingCreate = z.strictObject({
  advertiserId: id,
  title: z.string().trim().min(1).max(120),
  description: z.string().trim().max(1000).default(''),
  category,
  region: region.default('*'),
  schedule: scheduleSchema.nullable().default(null),
  destination: destinationSchema,
  bidCents: cents('bidCents', 1, MAX_BID),
  dailyBudgetCents: cents('dailyBudgetCents', 1, MAX_BUDGET),
  qualification: qualification.default({ minConnectedSeconds: 60 }),
  staticNumber: phoneNumber.optional(),
  status: z.enum(['active', 'paused']).default('active'),
});

export const listingUpdate = z.strictObject({
  title: z.string().trim().min(1).max(120).optional(),
  description: z.string().trim().max(1000).optional(),
  category: category.optional(),
  region: region.optional(),
  schedule: scheduleSchema.nullable().optional(),
  destination: destinationSchema.optional(),
  bidCents: cents('bidCents', 1, MAX_BID).optional(),
  dailyBudgetCents: cents('dailyBudgetCents', 1, MAX_BUDGET).optional(),
  qualification: qualification.optional(),
  staticNumber: phoneNumber.nullable().optional(),
  status: z.enum(['active', 'paused', 'archived']).optional(),
});

export const refundSchema = z.strictObject({
  callId: z.string().min(1).max(128),
  /** Default: what is left of the charge. */
  amountCents: cents('amountCents', 1, MAX_BID).optional(),
  reason: z.string().min(1).max(500),
  key: z.string().min(1).max(128).optional(),
});

export const placementSchema = z.strictObject({
  /** The publisher's placement key. */
  publisher: z.string().min(1).max(128),
  category,
  region: region.default('*'),
  slots: z.number().int().min(1).max(20).default(3),
  /** The visitor's device id (the widget keeps one per browser). */
  deviceId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{8,128}$/, 'must be 8–128 characters of A-Z a-z 0-9 . _ : -'),
  page: z.string().max(2048).optional(),
});

/** The first issue of a failed parse, as `path: message`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  const path = issue.path.join('.');
  if (issue.code === 'unrecognized_keys')
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}${path ? ` in ${path}` : ''}`;
  return path ? `${path}: ${issue.message}` : issue.message;
}
