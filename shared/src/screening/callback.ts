/**
 * Screening of callback requests: "call me back at this number". The company
 * decides, as for a call, whether the visitor may ask at all, and also whether
 * this number may be called and when, so that nobody can make Parley call
 * arbitrary numbers. The token it issues has the scope `callback:<destination>`
 * and the private claim `callback: { phone, when }`: the gateway calls exactly
 * that number at that time.
 *
 *   request shape → steps 1–6 of a call (origin, IP blocklist, per-IP rate,
 *   session, session blocklist, per-session rate) → destination offers
 *   callbacks → number (valid, country allowed, not blocked, `isBlockedNumber`)
 *   → per-number rate → when (business hours, not past, not too far) →
 *   outstanding-token cap → issue
 */
import { randomUUID } from 'node:crypto';
import { MAX_TTL_SECONDS, type PrivateClaims } from '../tokens/index.js';
import {
  compileBusinessHours,
  type BusinessHours,
  type CompiledBusinessHours,
} from './business-hours.js';
import type { RateLimit, ResolvedOptions, ScreeningDecision } from './options.js';
import {
  isCountryCode,
  isNumberListEntry,
  numberCountry,
  numberListed,
  visitorNumber,
} from './phone.js';
import { admitVisitor, clip, isPlainObject, rate, refusal, seconds } from './screening.js';

export interface CallbackDestinationOptions {
  /** When callbacks may be placed (and "now" asked); always when absent. */
  readonly businessHours?: BusinessHours;
  /** Lifetime of its tokens; default the screening's `ttlSeconds`. */
  readonly ttlSeconds?: number;
}

export interface CallbackScreeningOptions {
  /**
   * Destinations that offer callbacks: queue names and `listing.<id>` (a
   * marketplace listing), as a list or with options per destination.
   */
  readonly destinations: readonly string[] | Readonly<Record<string, CallbackDestinationOptions>>;
  /** The country of numbers typed without `+` when the request names none (ISO 3166, `US`). */
  readonly defaultCountry?: string;
  /** Countries whose numbers may be called; any when absent. */
  readonly allowedCountries?: readonly string[];
  /** How many callbacks one number may be asked for per window. Default 3 per hour. */
  readonly perNumber?: RateLimit;
  /** Numbers never called: whole E.164 numbers or prefixes ending in `*` (`+1900*`). */
  readonly blockedNumbers?: readonly string[];
  /** For dynamic lists (opt-outs, abuse reports); a rejection propagates out of `screenCallback`. */
  readonly isBlockedNumber?: (e164: string) => boolean | Promise<boolean>;
  /** How far ahead a time slot may be. Default 7 days. */
  readonly maxDaysAhead?: number;
}

/** What the company's server knows about a visitor asking to be called back. */
export interface CallbackScreeningRequest {
  readonly ip: string;
  readonly origin: string | undefined;
  readonly sessionId: string | undefined;
  /** A queue name or `listing.<id>`. */
  readonly destination: string | undefined;
  /** As typed: E.164, or national in `country`. */
  readonly phone: string | undefined;
  /** ISO 3166 country of a national number (the widget's country selection). */
  readonly country?: string | undefined;
  /** `now`, `agent-free`, or an ISO 8601 instant (a time slot). */
  readonly when: string | undefined;
  readonly privateClaims?: PrivateClaims;
}

/** Callback options after validation. @internal */
export interface ResolvedCallbackOptions {
  readonly destinations: ReadonlyMap<
    string,
    { readonly ttlSeconds: number | undefined; readonly hours: CompiledBusinessHours | undefined }
  >;
  readonly defaultCountry: string | undefined;
  readonly allowedCountries: ReadonlySet<string> | undefined;
  readonly perNumber: RateLimit;
  readonly blockedNumbers: readonly string[];
  readonly isBlockedNumber: CallbackScreeningOptions['isBlockedNumber'];
  readonly maxAheadMs: number;
}

const DESTINATION = /^[^\s]{1,200}$/;
/** A slot a little in the past (the visitor's clock, the time to submit) is taken as now. */
const PAST_TOLERANCE_MS = 60_000;

/** Validates the `callbacks` options; throws a RangeError naming the field. @internal */
export function resolveCallbackOptions(
  options: CallbackScreeningOptions,
  defaultTtl: number | undefined,
  optionalTtl: (ttl: number | undefined, path: string) => number | undefined,
  rateLimit: (limit: RateLimit, path: string) => RateLimit,
): ResolvedCallbackOptions {
  if (typeof options !== 'object' || options === null)
    throw new RangeError('callbacks must be an object');
  const list = options.destinations;
  if (typeof list !== 'object' || list === null)
    throw new RangeError('callbacks.destinations must be a list or an object of name → options');
  const entries: [string, CallbackDestinationOptions][] = Array.isArray(list)
    ? list.map((name: unknown) => [name as string, {}])
    : Object.entries(list as Record<string, CallbackDestinationOptions>);
  const destinations = new Map<
    string,
    { ttlSeconds: number | undefined; hours: CompiledBusinessHours | undefined }
  >();
  for (const [name, d] of entries) {
    const path = `callbacks.destinations.${String(name)}`;
    if (typeof name !== 'string' || !DESTINATION.test(name))
      throw new RangeError(`${path}: a destination is 1 to 200 characters without spaces`);
    if (typeof d !== 'object' || d === null) throw new RangeError(`${path} must be an object`);
    destinations.set(name, {
      ttlSeconds: optionalTtl(d.ttlSeconds, `${path}.ttlSeconds`) ?? defaultTtl,
      hours:
        d.businessHours === undefined
          ? undefined
          : compileBusinessHours(d.businessHours, `${path}.businessHours`),
    });
  }
  const defaultCountry = options.defaultCountry;
  if (defaultCountry !== undefined && !isCountryCode(defaultCountry))
    throw new RangeError(`callbacks.defaultCountry: "${String(defaultCountry)}" is not like "US"`);
  let allowedCountries: Set<string> | undefined;
  if (options.allowedCountries !== undefined) {
    if (!Array.isArray(options.allowedCountries))
      throw new RangeError('callbacks.allowedCountries must be a list like ["US", "CA"]');
    allowedCountries = new Set();
    for (const [i, c] of options.allowedCountries.entries()) {
      if (!isCountryCode(c))
        throw new RangeError(`callbacks.allowedCountries[${i}]: "${String(c)}" is not like "US"`);
      allowedCountries.add(c);
    }
  }
  const blockedNumbers = options.blockedNumbers ?? [];
  if (!Array.isArray(blockedNumbers))
    throw new RangeError('callbacks.blockedNumbers must be a list');
  blockedNumbers.forEach((entry, i) => {
    if (!isNumberListEntry(entry))
      throw new RangeError(
        `callbacks.blockedNumbers[${i}]: "${String(entry)}" is not +digits, optionally ending in *`,
      );
  });
  if (options.isBlockedNumber !== undefined && typeof options.isBlockedNumber !== 'function')
    throw new RangeError('callbacks.isBlockedNumber must be a function');
  const days = options.maxDaysAhead ?? 7;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 90)
    throw new RangeError(`callbacks.maxDaysAhead must be from 0 to 90 days, got ${String(days)}`);
  return {
    destinations,
    defaultCountry,
    allowedCountries,
    perNumber: rateLimit(
      options.perNumber ?? { max: 3, windowSeconds: 3600 },
      'callbacks.perNumber',
    ),
    blockedNumbers,
    isBlockedNumber: options.isBlockedNumber,
    maxAheadMs: days * 86_400_000,
  };
}

/** Decides one callback request. Never throws for bad input. @internal */
export async function decideCallback(
  o: ResolvedOptions,
  request: CallbackScreeningRequest,
): Promise<ScreeningDecision> {
  const c = o.callbacks;
  const shapeError = checkCallbackShape(request);
  if (shapeError !== undefined) return refusal('bad_request', shapeError);
  if (c === undefined) return refusal('callback_not_offered', 'no callbacks are configured');
  const admitted = await admitVisitor(o, request);
  if ('ok' in admitted) return admitted;
  const { origin, sessionId, now } = admitted;

  // 7. The destination offers callbacks.
  const destinationName = request.destination ?? '';
  const destination = c.destinations.get(destinationName);
  if (destination === undefined)
    return refusal('callback_not_offered', `no callbacks for ${clip(destinationName)}`);

  // 8. The number: one, of an allowed country, not blocked.
  const country = request.country ?? c.defaultCountry;
  const phone = visitorNumber(request.phone ?? '', country);
  if (phone === undefined)
    return refusal('number_invalid', `not a phone number: ${clip(request.phone ?? '')}`);
  if (c.allowedCountries !== undefined) {
    const from = numberCountry(phone);
    if (from === undefined || !c.allowedCountries.has(from))
      return refusal('number_blocked', `${phone} is not in an allowed country`);
  }
  const listed = numberListed(phone, c.blockedNumbers);
  if (listed !== undefined) return refusal('number_blocked', `${phone} matches ${listed}`);
  if (c.isBlockedNumber !== undefined && (await c.isBlockedNumber(phone)))
    return refusal('number_blocked', 'isBlockedNumber() said so');

  // 9. Per-number rate: the same number asked again and again is someone else's harassment.
  const limited = await rate(o, `rate:number:${phone}`, c.perNumber, now, 'per-number');
  if (limited) return limited;

  // 10. When: open now, or a slot in the hours, not past, not too far ahead.
  const when = request.when ?? '';
  if (when === 'now' || when === 'agent-free') {
    if (destination.hours !== undefined && !destination.hours.isOpen(now))
      return refusal(
        'outside_business_hours',
        `${destinationName} is closed at ${destination.hours.describe(now)}`,
      );
  } else {
    const at = Date.parse(when);
    if (!/^\d{4}-\d\d-\d\dT/.test(when) || Number.isNaN(at))
      return refusal('callback_slot_invalid', `when is "now", "agent-free" or an ISO 8601 time`);
    if (at < now - PAST_TOLERANCE_MS)
      return refusal('callback_slot_invalid', `${when} is in the past`);
    if (at > now + c.maxAheadMs)
      return refusal('callback_slot_invalid', `${when} is too far ahead`);
    if (destination.hours !== undefined && !destination.hours.isOpen(at))
      return refusal(
        'callback_slot_invalid',
        `${destinationName} is closed at ${destination.hours.describe(at)}`,
      );
  }
  const whenClaim =
    when === 'now' || when === 'agent-free' ? when : new Date(Date.parse(when)).toISOString();

  // 11. Outstanding tokens, as for calls.
  const jti = randomUUID();
  const slotKey = `outstanding:${sessionId}`;
  if (o.maxOutstanding !== undefined) {
    const ttl = destination.ttlSeconds ?? MAX_TTL_SECONDS;
    const taken = await o.store.reserve(slotKey, jti, o.maxOutstanding, now + ttl * 1000, now);
    if (!taken.ok)
      return refusal(
        'too_many_outstanding',
        `session holds ${o.maxOutstanding} unexpired tokens`,
        seconds(taken.retryAfterMs),
      );
  }

  // 12. Issue: the number and the time sealed in the private claims.
  let issued;
  try {
    issued = await o.issuer.issue({
      subject: sessionId,
      scope: `callback:${destinationName}`,
      origin,
      jti,
      privateClaims: { ...request.privateClaims, callback: { phone, when: whenClaim } },
      ...(destination.ttlSeconds === undefined ? {} : { ttlSeconds: destination.ttlSeconds }),
    });
  } catch (error) {
    if (o.maxOutstanding !== undefined) await o.store.release(slotKey, jti);
    throw error;
  }
  if (o.maxOutstanding !== undefined)
    await o.store.reserve(slotKey, jti, o.maxOutstanding, issued.expiresAt.getTime(), now);
  return { ok: true, token: issued.token, expiresAt: issued.expiresAt, claims: issued.claims };
}

function checkCallbackShape(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'request must be an object';
  const r = request as Record<string, unknown>;
  if (typeof r.ip !== 'string') return 'ip is not an IP address';
  for (const field of ['origin', 'sessionId', 'country'] as const)
    if (r[field] !== undefined && typeof r[field] !== 'string') return `${field} must be a string`;
  if (typeof r.destination !== 'string' || r.destination.length === 0)
    return 'destination is required';
  if (r.destination.length > 200) return 'destination is too long';
  if (typeof r.phone !== 'string' || r.phone.length === 0) return 'phone is required';
  if (typeof r.when !== 'string' || r.when.length === 0 || r.when.length > 64)
    return 'when is "now", "agent-free" or an ISO 8601 time';
  if (r.privateClaims !== undefined && !isPlainObject(r.privateClaims))
    return 'privateClaims must be an object';
  return undefined;
}
