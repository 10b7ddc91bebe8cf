/**
 * Screening: whether a visitor may call at all, decided on the company's own
 * server before it issues a call token. Framework-free; `router.ts` puts it
 * behind an express route.
 *
 * The rules run in a fixed order, cheapest and most general first, and the first
 * refusal wins:
 *
 *   request shape → origin → IP blocklist → per-IP rate → session required →
 *   session blocklist (static, then `isBlocked`) → per-session rate → queue known →
 *   business hours → outstanding-token cap → issue
 *
 * A rate-limit hit is counted when its step passes, so refusals by later steps
 * still count as attempts.
 */
import { randomUUID } from 'node:crypto';
import { ERROR_CODES, type ScreeningReason } from '../errors/index.js';
import { MAX_TTL_SECONDS, type PrivateClaims } from '../tokens/index.js';
import { matchIpRules, parseIp, rateKeyOf } from './ip.js';
import {
  resolveOptions,
  type RateLimit,
  type ResolvedOptions,
  type ScreeningDecision,
  type ScreeningOptions,
  type ScreeningRefused,
  type ScreeningRequest,
} from './options.js';
import { normaliseOrigin } from './origin.js';
import { decideCallback, type CallbackScreeningRequest } from './callback.js';

export interface Screening {
  /**
   * Decides one request: a call token, or a refusal with its code. Never throws
   * for bad input (that is a `bad_request` decision); rejects only when a
   * dependency fails (the store, the issuer, `isBlocked`).
   */
  screen(request: ScreeningRequest): Promise<ScreeningDecision>;
  /**
   * Decides one callback request (callback.ts): a token with the scope
   * `callback:<destination>` and the number and time sealed in it, or a
   * refusal. Refused with `callback_not_offered` when `callbacks` is not set.
   */
  screenCallback(request: CallbackScreeningRequest): Promise<ScreeningDecision>;
}

/** Validates `options` (throws `ParleyError('invalid_config')`) and returns the screening. */
export function createScreening(options: ScreeningOptions): Screening {
  const resolved = resolveOptions(options);
  return {
    async screen(request) {
      const decision = await decide(resolved, request);
      notifyDecision(resolved.onDecision, decision, request);
      return decision;
    },
    async screenCallback(request) {
      const decision = await decideCallback(resolved, request);
      notifyDecision(resolved.onDecision, decision, {
        ip: request.ip,
        origin: request.origin,
        sessionId: request.sessionId,
        queue: `callback:${request.destination ?? ''}`,
      });
      return decision;
    },
  };
}

/** Builds a refusal with the code's HTTP status. */
export function refusal(
  code: ScreeningReason,
  detail?: string,
  retryAfterSeconds?: number,
): ScreeningRefused {
  return {
    ok: false,
    code,
    status: ERROR_CODES[code].http,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(detail === undefined ? {} : { detail }),
  };
}

/** Tells the `onDecision` hook, ignoring its errors. @internal */
export function notifyDecision(
  onDecision: ScreeningOptions['onDecision'],
  decision: ScreeningDecision,
  request: ScreeningRequest,
): void {
  if (!onDecision) return;
  try {
    const result: unknown = onDecision(decision, request);
    // A logging hook must not decide anything, not even by rejecting.
    if (result instanceof Promise) result.catch(() => undefined);
  } catch {
    // Ignored on purpose, see ScreeningOptions.onDecision.
  }
}

/** The visitor as steps 1 to 6 admitted them. @internal */
export interface AdmittedVisitor {
  readonly origin: string;
  readonly sessionId: string;
  readonly now: number;
}

/**
 * Steps 1 to 6, the same for a call token and a callback token: origin, IP
 * blocklist, per-IP rate, session, session blocklist, per-session rate.
 * @internal
 */
export async function admitVisitor(
  o: ResolvedOptions,
  request: Pick<ScreeningRequest, 'ip' | 'origin' | 'sessionId'>,
): Promise<AdmittedVisitor | ScreeningRefused> {
  const now = o.now();

  // 1. Origin.
  let origin: string;
  if (request.origin === undefined || request.origin === '') {
    if (o.missingOrigin === undefined) return refusal('origin_not_allowed', 'no Origin header');
    origin = o.missingOrigin;
  } else {
    const normalised = normaliseOrigin(request.origin);
    if (normalised === undefined) {
      return refusal('origin_not_allowed', `not an http(s) origin: ${clip(request.origin)}`);
    }
    if (o.allowedOrigins !== undefined && !o.allowedOrigins.has(normalised)) {
      return refusal('origin_not_allowed', `origin ${normalised} is not on the allowlist`);
    }
    origin = normalised;
  }

  // 2. IP blocklist. checkShape made sure the address parses.
  const address = parseIp(request.ip);
  if (address === undefined) return refusal('bad_request', 'ip is not an IP address');
  const blockedBy = matchIpRules(address, o.blockedIps);
  if (blockedBy !== undefined)
    return refusal('blocked', `ip ${request.ip} matches ${blockedBy.text}`);

  // 3. Per-IP rate.
  if (o.perIp !== undefined) {
    const key = rateKeyOf(address, o.perIp.ipv6PrefixLength);
    const limited = await rate(o, `rate:ip:${key}`, o.perIp, now, `per-IP (${key})`);
    if (limited) return limited;
  }

  // 4. Session required.
  const sessionId = request.sessionId;
  if (sessionId === undefined || sessionId === '') {
    return refusal('session_required', 'no web session');
  }

  // 5. Session blocklist.
  if (o.blockedSessions.has(sessionId)) return refusal('blocked', 'session is on the blocklist');
  if (o.isBlocked !== undefined && (await o.isBlocked({ ip: request.ip, sessionId }))) {
    return refusal('blocked', 'isBlocked() said so');
  }

  // 6. Per-session rate.
  if (o.perSession !== undefined) {
    const limited = await rate(o, `rate:session:${sessionId}`, o.perSession, now, 'per-session');
    if (limited) return limited;
  }
  return { origin, sessionId, now };
}

async function decide(o: ResolvedOptions, request: ScreeningRequest): Promise<ScreeningDecision> {
  const shapeError = checkShape(request);
  if (shapeError !== undefined) return refusal('bad_request', shapeError);
  const admitted = await admitVisitor(o, request);
  if ('ok' in admitted) return admitted;
  const { origin, sessionId, now } = admitted;

  // 7. Queue known.
  const queueName = request.queue ?? '';
  const queue = o.queues.get(queueName);
  if (queue === undefined) return refusal('unknown_queue', `no queue ${clip(queueName)}`);

  // 8. Business hours.
  if (queue.businessHours !== undefined && !queue.businessHours.isOpen(now)) {
    return refusal(
      'outside_business_hours',
      `queue ${queue.name} is closed at ${queue.businessHours.describe(now)}`,
    );
  }

  // 9. Outstanding tokens. The slot is taken before issuing (so two concurrent
  // requests cannot both take the last one) for the longest lifetime a token can
  // have, then narrowed to the token's real expiry.
  const jti = randomUUID();
  const slotKey = `outstanding:${sessionId}`;
  if (o.maxOutstanding !== undefined) {
    const ttl = queue.ttlSeconds ?? MAX_TTL_SECONDS;
    const taken = await o.store.reserve(slotKey, jti, o.maxOutstanding, now + ttl * 1000, now);
    if (!taken.ok) {
      return refusal(
        'too_many_outstanding',
        `session holds ${o.maxOutstanding} unexpired tokens`,
        seconds(taken.retryAfterMs),
      );
    }
  }

  // 10. Issue.
  let issued;
  try {
    issued = await o.issuer.issue({
      subject: sessionId,
      scope: queue.scope,
      origin,
      jti,
      ...(request.privateClaims === undefined ? {} : { privateClaims: request.privateClaims }),
      ...(queue.ttlSeconds === undefined ? {} : { ttlSeconds: queue.ttlSeconds }),
    });
  } catch (error) {
    if (o.maxOutstanding !== undefined) await o.store.release(slotKey, jti);
    throw error;
  }
  if (o.maxOutstanding !== undefined) {
    await o.store.reserve(slotKey, jti, o.maxOutstanding, issued.expiresAt.getTime(), now);
  }
  return { ok: true, token: issued.token, expiresAt: issued.expiresAt, claims: issued.claims };
}

/** @internal */
export async function rate(
  o: ResolvedOptions,
  key: string,
  limit: RateLimit,
  now: number,
  name: string,
): Promise<ScreeningRefused | undefined> {
  const result = await o.store.hit(key, limit.max, limit.windowSeconds * 1000, now);
  if (result.ok) return undefined;
  return refusal(
    'rate_limited',
    `${name} limit of ${limit.max} per ${limit.windowSeconds} s`,
    seconds(result.retryAfterMs),
  );
}

/** Whole seconds to wait, at least 1 (a `Retry-After: 0` invites an immediate retry storm). */
export function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** What is wrong with the request's shape, if anything. */
function checkShape(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'request must be an object';
  const r = request as Record<string, unknown>;
  if (typeof r.ip !== 'string' || parseIp(r.ip) === undefined) return 'ip is not an IP address';
  if (r.origin !== undefined && typeof r.origin !== 'string') return 'origin must be a string';
  if (r.sessionId !== undefined && typeof r.sessionId !== 'string') {
    return 'sessionId must be a string';
  }
  if (typeof r.queue !== 'string' || r.queue.length === 0) return 'queue is required';
  if (r.queue.length > 200) return 'queue is too long';
  if (r.privateClaims !== undefined && !isPlainObject(r.privateClaims)) {
    return 'privateClaims must be an object';
  }
  return undefined;
}

export function isPlainObject(value: unknown): value is PrivateClaims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Untrusted text in a log detail: bounded, one line. */
export function clip(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
