import type { Logger } from '../observability/index.js';
import type { SessionStore } from '../storage/index.js';

export interface NumberPoolConfig {
  /** E.164 blocks, inclusive, e.g. { from: '+15550100', to: '+15550199' }. */
  readonly ranges: readonly { readonly from: string; readonly to: string }[];
  /** Shown when every number is leased; the X-Parley-Session header still identifies the session. */
  readonly fallback: string;
  /** How long a session keeps its number after its last call ends. */
  readonly graceSeconds: number;
}

export interface SessionNumber {
  readonly number: string;
  /** True when the pool was exhausted and the shared fallback number was given. */
  readonly fallback: boolean;
}

interface Lease {
  tenant: string;
  sessionId: string;
  expiresAt: number;
  activeCalls: number;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const MAX_POOL = 1_000_000;

/** Every number of the ranges, in order; throws a plain Error the config layer reports. */
export function expandRanges(ranges: NumberPoolConfig['ranges']): string[] {
  const numbers: string[] = [];
  for (const { from, to } of ranges) {
    if (!E164.test(from) || !E164.test(to))
      throw new Error(`number range ${from}..${to}: not E.164`);
    if (from.length !== to.length)
      throw new Error(`number range ${from}..${to}: ends differ in length`);
    const start = BigInt(from.slice(1));
    const end = BigInt(to.slice(1));
    if (end < start) throw new Error(`number range ${from}..${to}: ends in the wrong order`);
    if (end - start + 1n + BigInt(numbers.length) > BigInt(MAX_POOL)) {
      throw new Error(`number pool larger than ${MAX_POOL}`);
    }
    for (let n = start; n <= end; n += 1n)
      numbers.push(`+${n.toString().padStart(from.length - 1, '0')}`);
  }
  return numbers;
}

/**
 * Per-web-session caller-ID numbers: a session (tenant + token `sub`) holds one
 * number from the pool for as long as it keeps calling, plus a grace period
 * after its last call; then the number goes back, to the end of the free queue
 * so it is the last to be reused. Leases are written through to storage and
 * rebuilt from it on start, so a restart does not reshuffle numbers.
 */
export class SessionNumberPool {
  readonly #config: NumberPoolConfig;
  readonly #store: SessionStore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #onExhausted: () => void;
  readonly #pool: ReadonlySet<string>;
  /** number → lease */
  readonly #leases = new Map<string, Lease>();
  /** tenant\nsession → number */
  readonly #bySession = new Map<string, string>();
  /** Free numbers, least recently used first (a Set keeps insertion order). */
  readonly #free = new Set<string>();

  constructor(deps: {
    config: NumberPoolConfig;
    store: SessionStore;
    logger: Logger;
    now?: () => number;
    onExhausted?: () => void;
  }) {
    this.#config = deps.config;
    this.#store = deps.store;
    this.#logger = deps.logger.child({ module: 'numbers' });
    this.#now = deps.now ?? Date.now;
    this.#onExhausted = deps.onExhausted ?? (() => undefined);
    const numbers = expandRanges(deps.config.ranges);
    this.#pool = new Set(numbers);
    for (const lease of this.#store.liveLeases(this.#now())) {
      if (!this.#pool.has(lease.number)) continue;
      this.#leases.set(lease.number, { ...lease, activeCalls: 0 });
      this.#bySession.set(key(lease.tenant, lease.sessionId), lease.number);
    }
    for (const n of numbers) if (!this.#leases.has(n)) this.#free.add(n);
  }

  get size(): number {
    return this.#pool.size;
  }

  get leased(): number {
    return this.#leases.size;
  }

  /** The session's number for a call that starts now (the same one it had, if it still holds it). */
  lease(tenant: string, sessionId: string): SessionNumber {
    const now = this.#now();
    const expiresAt = now + this.#config.graceSeconds * 1000;
    const held = this.#bySession.get(key(tenant, sessionId));
    const current = held === undefined ? undefined : this.#leases.get(held);
    // Still ours, even past its grace period, as long as no other session reclaimed it.
    if (held !== undefined && current) {
      current.activeCalls += 1;
      current.expiresAt = expiresAt;
      this.#store.extendNumber(tenant, sessionId, expiresAt);
      return { number: held, fallback: false };
    }
    const number = this.#take(now);
    if (number === undefined) {
      this.#onExhausted();
      this.#logger.warn(
        { tenant, sessionId, fallback: this.#config.fallback },
        'number pool exhausted: using the fallback number',
      );
      this.#store.assignNumber(tenant, sessionId, this.#config.fallback, true, expiresAt);
      return { number: this.#config.fallback, fallback: true };
    }
    this.#leases.set(number, { tenant, sessionId, expiresAt, activeCalls: 1 });
    this.#bySession.set(key(tenant, sessionId), number);
    this.#store.assignNumber(tenant, sessionId, number, false, expiresAt);
    return { number, fallback: false };
  }

  /** A call that got `number` from {@link lease} ended; the grace period starts when the last one does. */
  release(tenant: string, sessionId: string, number: string): void {
    const lease = this.#leases.get(number);
    if (!lease || lease.tenant !== tenant || lease.sessionId !== sessionId) return;
    lease.activeCalls = Math.max(0, lease.activeCalls - 1);
    if (lease.activeCalls === 0) {
      lease.expiresAt = this.#now() + this.#config.graceSeconds * 1000;
      this.#store.extendNumber(tenant, sessionId, lease.expiresAt);
    }
  }

  /** The session holding `number` now, if any. */
  holder(number: string): { tenant: string; sessionId: string } | undefined {
    const lease = this.#leases.get(number);
    if (!lease || (lease.activeCalls === 0 && lease.expiresAt <= this.#now())) return undefined;
    return { tenant: lease.tenant, sessionId: lease.sessionId };
  }

  #take(now: number): string | undefined {
    const first = this.#free.values().next();
    if (!first.done) {
      this.#free.delete(first.value);
      return first.value;
    }
    // No never-used or returned number: reclaim the lease that expired longest ago.
    let oldest: string | undefined;
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const [number, lease] of this.#leases) {
      if (lease.activeCalls === 0 && lease.expiresAt <= now && lease.expiresAt < oldestAt) {
        oldest = number;
        oldestAt = lease.expiresAt;
      }
    }
    if (oldest === undefined) return undefined;
    const lease = this.#leases.get(oldest);
    if (lease) {
      this.#bySession.delete(key(lease.tenant, lease.sessionId));
      this.#store.releaseNumber(lease.tenant, lease.sessionId);
    }
    this.#leases.delete(oldest);
    return oldest;
  }
}

function key(tenant: string, sessionId: string): string {
  return `${tenant}\n${sessionId}`;
}
