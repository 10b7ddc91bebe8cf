/**
 * Screening options and their validation. Everything is checked once, when the
 * screening is created, and a mistake throws `ParleyError('invalid_config')`
 * naming the field: a typo in a time zone or a CIDR must stop the company's
 * server at start-up, not quietly let every visitor through (or none).
 */
import { ParleyError, type ScreeningReason } from '../errors/index.js';
import {
  MAX_TTL_SECONDS,
  type CallTokenIssuer,
  type CallTokenPublicClaims,
  type PrivateClaims,
} from '../tokens/index.js';
import {
  compileBusinessHours,
  type BusinessHours,
  type CompiledBusinessHours,
} from './business-hours.js';
import {
  resolveCallbackOptions,
  type CallbackScreeningOptions,
  type ResolvedCallbackOptions,
} from './callback.js';
import { parseIpRule, type IpRule } from './ip.js';
import { normaliseOrigin } from './origin.js';
import { MemoryScreeningStore, type ScreeningStore } from './store.js';

export interface RateLimit {
  /** Requests allowed per window. */
  readonly max: number;
  /** Length of the sliding window. */
  readonly windowSeconds: number;
}

export interface IpRateLimit extends RateLimit {
  /**
   * IPv6 clients are counted per network of this many bits (default 64: one
   * subscriber's allocation). 128 counts single addresses.
   */
  readonly ipv6PrefixLength?: number;
}

export interface QueueOptions {
  /** Scope of the tokens issued for this queue; default `queue:<name>`. */
  readonly scope?: string;
  /** When the queue takes calls; always when absent. */
  readonly businessHours?: BusinessHours;
  /** Lifetime of its tokens; default the screening's `ttlSeconds`. */
  readonly ttlSeconds?: number;
}

export interface BlockSubject {
  readonly ip: string;
  readonly sessionId: string;
}

export interface Blocklist {
  /** Addresses and CIDRs, IPv4 or IPv6 (`203.0.113.7`, `198.51.100.0/24`, `2001:db8::/32`). */
  readonly ips?: readonly string[];
  readonly sessionIds?: readonly string[];
  /**
   * For dynamic lists (a database, an abuse feed). Asked at the session-blocklist
   * step, once the session is known; a rejection propagates out of `screen`.
   */
  readonly isBlocked?: (subject: BlockSubject) => boolean | Promise<boolean>;
}

/** What the company's server knows about the request asking for a call token. */
export interface ScreeningRequest {
  /** Client address (behind a proxy: as the company's server trusts it). */
  readonly ip: string;
  /** The `Origin` request header. */
  readonly origin: string | undefined;
  /** The visitor's web session id; becomes the token's subject. */
  readonly sessionId: string | undefined;
  readonly queue: string | undefined;
  /** Claims only the gateway can read (customer id, name, tier). */
  readonly privateClaims?: PrivateClaims;
}

export interface ScreeningAllowed {
  readonly ok: true;
  readonly token: string;
  readonly expiresAt: Date;
  readonly claims: CallTokenPublicClaims;
}

export interface ScreeningRefused {
  readonly ok: false;
  readonly code: ScreeningReason;
  /** HTTP status of the code (`ERROR_CODES[code].http`). */
  readonly status: number;
  /** Set when waiting helps (rate limits, outstanding tokens). */
  readonly retryAfterSeconds?: number;
  /** For the company's logs; never shown to the visitor. */
  readonly detail?: string;
}

export type ScreeningDecision = ScreeningAllowed | ScreeningRefused;

export interface ScreeningOptions {
  /** From `createCallTokenIssuer(...)`. */
  readonly issuer: CallTokenIssuer;
  /** Queue names visitors may ask for: a list, or options per name (may be empty with `callbacks`). */
  readonly queues: readonly string[] | Readonly<Record<string, QueueOptions>>;
  /** Callback requests ("call me back"): destinations, number rules, per-number rate (callback.ts). */
  readonly callbacks?: CallbackScreeningOptions;
  /** Page origins allowed to ask (`https://shop.example`); any http(s) origin when absent. */
  readonly allowedOrigins?: readonly string[];
  /** Accept requests without an `Origin` header (non-browser clients). Default false. */
  readonly allowMissingOrigin?: boolean;
  /**
   * The origin put in tokens for requests without one (with `allowMissingOrigin`);
   * default the first of `allowedOrigins`.
   */
  readonly defaultOrigin?: string;
  readonly rateLimit?: {
    readonly perIp?: IpRateLimit;
    readonly perSession?: RateLimit;
  };
  readonly blocklist?: Blocklist;
  /** Most unexpired tokens one session may hold. No cap when absent. */
  readonly maxOutstandingPerSession?: number;
  /** Token lifetime, 1 to 300 s. Default the issuer's default (60 s unless configured). */
  readonly ttlSeconds?: number;
  /** Default a {@link MemoryScreeningStore}. */
  readonly store?: ScreeningStore;
  /** Clock in ms since the epoch, for tests. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Told every decision, for the company's logs. Errors it throws (or promises it
   * rejects) are ignored: logging must not decide whether a visitor may call.
   */
  readonly onDecision?: (decision: ScreeningDecision, request: ScreeningRequest) => void;
}

export interface ResolvedQueue {
  readonly name: string;
  readonly scope: string;
  readonly ttlSeconds: number | undefined;
  readonly businessHours: CompiledBusinessHours | undefined;
}

/** Options after validation, with defaults applied. @internal */
export interface ResolvedOptions {
  readonly issuer: CallTokenIssuer;
  readonly queues: ReadonlyMap<string, ResolvedQueue>;
  readonly allowedOrigins: ReadonlySet<string> | undefined;
  /** Origin for requests without one; `undefined` when those are refused. */
  readonly missingOrigin: string | undefined;
  readonly perIp: (RateLimit & { readonly ipv6PrefixLength: number }) | undefined;
  readonly perSession: RateLimit | undefined;
  readonly blockedIps: readonly IpRule[];
  readonly blockedSessions: ReadonlySet<string>;
  readonly isBlocked: Blocklist['isBlocked'];
  readonly maxOutstanding: number | undefined;
  readonly store: ScreeningStore;
  readonly now: () => number;
  readonly onDecision: ScreeningOptions['onDecision'];
  readonly callbacks: ResolvedCallbackOptions | undefined;
}

const SCOPE_ENTRY = /^(queue|listing|callback):[^\s]+$/;

/** Validates `options`; throws `ParleyError('invalid_config')` naming the first bad field. */
export function resolveOptions(options: ScreeningOptions): ResolvedOptions {
  try {
    return resolve(options);
  } catch (error) {
    if (error instanceof ParleyError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ParleyError('invalid_config', `screening: ${reason}`, { cause: error });
  }
}

function resolve(options: ScreeningOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new RangeError('options must be an object');
  }
  if (typeof options.issuer?.issue !== 'function') {
    throw new RangeError('issuer must be a CallTokenIssuer from createCallTokenIssuer(...)');
  }
  const ttlSeconds = optionalTtl(options.ttlSeconds, 'ttlSeconds');
  const queues = resolveQueues(options.queues, ttlSeconds, options.callbacks !== undefined);
  const callbacks =
    options.callbacks === undefined
      ? undefined
      : resolveCallbackOptions(options.callbacks, ttlSeconds, optionalTtl, rateLimit);

  let allowedOrigins: Set<string> | undefined;
  if (options.allowedOrigins !== undefined) {
    if (!Array.isArray(options.allowedOrigins)) {
      throw new RangeError(
        'allowedOrigins must be a list of origins such as "https://shop.example"',
      );
    }
    allowedOrigins = new Set(
      options.allowedOrigins.map((origin, index) =>
        configOrigin(origin, `allowedOrigins[${index}]`),
      ),
    );
  }
  let missingOrigin: string | undefined;
  if (options.allowMissingOrigin === true) {
    missingOrigin =
      options.defaultOrigin !== undefined
        ? configOrigin(options.defaultOrigin, 'defaultOrigin')
        : allowedOrigins?.values().next().value;
    if (missingOrigin === undefined) {
      throw new RangeError(
        'allowMissingOrigin needs defaultOrigin (or allowedOrigins): a call token always names an origin',
      );
    }
  }

  const perIpOptions = options.rateLimit?.perIp;
  const perIp =
    perIpOptions === undefined
      ? undefined
      : {
          ...rateLimit(perIpOptions, 'rateLimit.perIp'),
          ipv6PrefixLength: prefixLength(perIpOptions.ipv6PrefixLength),
        };
  const perSession =
    options.rateLimit?.perSession === undefined
      ? undefined
      : rateLimit(options.rateLimit.perSession, 'rateLimit.perSession');

  const blocklist = options.blocklist ?? {};
  const blockedIps = (blocklist.ips ?? []).map((text, index) => {
    if (typeof text !== 'string') throw new RangeError(`blocklist.ips[${index}] must be a string`);
    try {
      return parseIpRule(text.trim());
    } catch (error) {
      throw new RangeError(`blocklist.ips[${index}]: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
  const blockedSessions = new Set<string>();
  for (const [index, id] of (blocklist.sessionIds ?? []).entries()) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new RangeError(`blocklist.sessionIds[${index}] must be a non-empty string`);
    }
    blockedSessions.add(id);
  }
  if (blocklist.isBlocked !== undefined && typeof blocklist.isBlocked !== 'function') {
    throw new RangeError('blocklist.isBlocked must be a function');
  }

  const maxOutstanding = options.maxOutstandingPerSession;
  if (maxOutstanding !== undefined && !isPositiveInteger(maxOutstanding)) {
    throw new RangeError(
      `maxOutstandingPerSession must be a positive integer, got ${maxOutstanding}`,
    );
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new RangeError('now must be a function returning ms since the epoch');
  }
  if (options.onDecision !== undefined && typeof options.onDecision !== 'function') {
    throw new RangeError('onDecision must be a function');
  }

  return {
    issuer: options.issuer,
    queues,
    allowedOrigins,
    missingOrigin,
    perIp,
    perSession,
    blockedIps,
    blockedSessions,
    isBlocked: blocklist.isBlocked,
    maxOutstanding,
    store: options.store ?? new MemoryScreeningStore(),
    now: options.now ?? Date.now,
    onDecision: options.onDecision,
    callbacks,
  };
}

function resolveQueues(
  queues: ScreeningOptions['queues'],
  defaultTtl: number | undefined,
  mayBeEmpty: boolean,
): Map<string, ResolvedQueue> {
  if (typeof queues !== 'object' || queues === null) {
    throw new RangeError('queues must be a list of names or an object of name → options');
  }
  const entries: [string, QueueOptions][] = Array.isArray(queues)
    ? queues.map((name: unknown) => [name as string, {}])
    : Object.entries(queues as Record<string, QueueOptions>);
  if (entries.length === 0 && !mayBeEmpty)
    throw new RangeError('queues must name at least one queue');
  const resolved = new Map<string, ResolvedQueue>();
  for (const [name, queue] of entries) {
    const path = `queues.${String(name)}`;
    if (typeof name !== 'string' || !/^[^\s]{1,200}$/.test(name)) {
      throw new RangeError(`${path}: a queue name is 1 to 200 characters without spaces`);
    }
    if (resolved.has(name)) throw new RangeError(`${path}: listed twice`);
    if (typeof queue !== 'object' || queue === null) {
      throw new RangeError(`${path} must be an object of queue options`);
    }
    const scope = queue.scope ?? `queue:${name}`;
    if (typeof scope !== 'string' || !scope.split(' ').every((entry) => SCOPE_ENTRY.test(entry))) {
      throw new RangeError(
        `${path}.scope: "${String(scope)}" is not space-separated queue:<name> / listing:<id> entries`,
      );
    }
    resolved.set(name, {
      name,
      scope,
      ttlSeconds: optionalTtl(queue.ttlSeconds, `${path}.ttlSeconds`) ?? defaultTtl,
      businessHours:
        queue.businessHours === undefined
          ? undefined
          : compileBusinessHours(queue.businessHours, `${path}.businessHours`),
    });
  }
  return resolved;
}

function configOrigin(text: unknown, path: string): string {
  const origin = typeof text === 'string' ? normaliseOrigin(text.trim(), true) : undefined;
  if (origin === undefined) {
    throw new RangeError(
      `${path}: "${String(text)}" is not an origin such as "https://shop.example" (scheme, host, optional port; no path)`,
    );
  }
  return origin;
}

function rateLimit(limit: RateLimit, path: string): RateLimit {
  if (typeof limit !== 'object' || limit === null) {
    throw new RangeError(`${path} must be { max, windowSeconds }`);
  }
  if (!isPositiveInteger(limit.max)) {
    throw new RangeError(`${path}.max must be a positive integer, got ${String(limit.max)}`);
  }
  if (
    typeof limit.windowSeconds !== 'number' ||
    !Number.isFinite(limit.windowSeconds) ||
    limit.windowSeconds <= 0
  ) {
    throw new RangeError(
      `${path}.windowSeconds must be a positive number, got ${String(limit.windowSeconds)}`,
    );
  }
  return { max: limit.max, windowSeconds: limit.windowSeconds };
}

function prefixLength(bits: number | undefined): number {
  if (bits === undefined) return 64;
  if (!Number.isInteger(bits) || bits < 1 || bits > 128) {
    throw new RangeError(
      `rateLimit.perIp.ipv6PrefixLength must be an integer from 1 to 128, got ${bits}`,
    );
  }
  return bits;
}

function optionalTtl(ttl: number | undefined, path: string): number | undefined {
  if (ttl === undefined) return undefined;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    throw new RangeError(
      `${path} must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}, got ${ttl}`,
    );
  }
  return ttl;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
