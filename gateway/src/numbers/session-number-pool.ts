import type { Logger } from '../observability/index.js';
import type { LiveLease, SessionStore } from '../storage/index.js';
import { checkCallerNumberClaim, type ClaimRefusal } from './caller-number-claim.js';
import { FreeQueue, MAX_POOL, NumberIndex } from './number-index.js';
import { E164, type NumberRanges } from './number-ranges.js';
import type { SharedNumberLeases } from './shared-leases.js';

export interface NumberPoolConfig {
  /** E.164 blocks, inclusive, e.g. { from: '+15550100', to: '+15550199' }. */
  readonly ranges: readonly { readonly from: string; readonly to: string }[];
  /** Shown when every number is leased; the X-Parley-Session header still identifies the session. */
  readonly fallback: string;
  /** How long a session keeps its number after its last call ends. */
  readonly graceSeconds: number;
}

/** Where a session's number came from: its token's claim (S6), the pool, or the shared fallback. */
export type SessionNumberSource = 'claim' | 'pool' | 'fallback';

export interface SessionNumber {
  readonly number: string;
  /** True when the pool was exhausted and the shared fallback number was given. */
  readonly fallback: boolean;
  readonly source: SessionNumberSource;
}

/** What became of a token's `callerNumber` claim (for the metric). */
export type ClaimOutcome =
  { readonly accepted: true } | { readonly accepted: false; readonly reason: ClaimRefusal };

interface Lease {
  tenant: string;
  sessionId: string;
  expiresAt: number;
  activeCalls: number;
  /** Just agreed in prepare() and written with its expiry: the call's lease() need not write it again. */
  written?: boolean;
}

/** Numbers tried per call in a cluster before the fallback (each one another gateway holds). */
const MAX_CLAIM_TRIES = 16;
/** Expired claimed leases are dropped once the table is past this size (and then twice its live size). */
const CLAIMED_PRUNE_FLOOR = 1024;

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
 * Per-web-session caller-ID numbers (S6): a session (tenant + token `sub`) holds one
 * number from the pool for as long as it keeps calling, plus a grace period
 * after its last call; then the number goes back, to the end of the free queue
 * so it is the last to be reused. Leases are written through to storage and
 * rebuilt from it on start (`SessionNumberPool.load`), so a restart does not
 * reshuffle numbers. The memory is the truth while the gateway runs: the
 * store's writes go behind (a failed one is logged), never delaying a call.
 *
 * The company's web application may assign the number itself: a `callerNumber`
 * claim in the call token (see `callerNumberClaim`) is taken when it lies in the
 * tenant's own blocks (`tenants.<id>.callerNumbers`, never the pool's), and the
 * session then holds that number the same way (grace period, storage, `holder`).
 * A claim outside them is refused, logged and counted, and the pool leases one
 * as if there were no claim.
 */
export interface NumberPoolDeps {
  config: NumberPoolConfig;
  store: SessionStore;
  logger: Logger;
  now?: () => number;
  onExhausted?: () => void;
  /** The tenant's blocks a token's `callerNumber` claim may name (`tenants.<id>.callerNumbers`). */
  claimRanges?: (tenant: string) => NumberRanges | undefined;
  /** Each claim's outcome, for the metric. */
  onClaim?: (outcome: ClaimOutcome) => void;
  /** The leases the store held at start ({@link SessionNumberPool.load} reads them). */
  live?: readonly LiveLease[];
  /** With several gateways (shared.redis): where they agree on who holds which number. */
  shared?: SharedNumberLeases;
}

export class SessionNumberPool {
  readonly #config: NumberPoolConfig;
  readonly #store: SessionStore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #onExhausted: () => void;
  readonly #claimRanges: (tenant: string) => NumberRanges | undefined;
  readonly #onClaim: (outcome: ClaimOutcome) => void;
  readonly #shared: SharedNumberLeases | undefined;
  /** The pool's numbers by index (computed from the blocks, not kept as strings). */
  readonly #pool: NumberIndex;
  /** number → lease */
  readonly #leases = new Map<string, Lease>();
  /** tenant\nsession → number */
  readonly #bySession = new Map<string, string>();
  /** Free numbers' indices, least recently used first. */
  readonly #free: FreeQueue;
  /** Numbers sessions hold by their token's claim: number → lease (never in the pool). */
  readonly #claimed = new Map<string, Lease>();
  #claimedPruneAt = CLAIMED_PRUNE_FLOOR;

  /** A pool with the leases its store still holds (a restart keeps each session's number). */
  static async load(deps: Omit<NumberPoolDeps, 'live'>): Promise<SessionNumberPool> {
    const live = await deps.store.liveLeases((deps.now ?? Date.now)());
    return new SessionNumberPool({ ...deps, live });
  }

  constructor(deps: NumberPoolDeps) {
    this.#config = deps.config;
    this.#store = deps.store;
    this.#logger = deps.logger.child({ module: 'numbers' });
    this.#now = deps.now ?? Date.now;
    this.#onExhausted = deps.onExhausted ?? (() => undefined);
    this.#claimRanges = deps.claimRanges ?? (() => undefined);
    this.#onClaim = deps.onClaim ?? (() => undefined);
    this.#shared = deps.shared;
    this.#pool = new NumberIndex(deps.config.ranges);
    this.#free = new FreeQueue(this.#pool.size);
    const leased = new Set<number>();
    for (const lease of deps.live ?? []) {
      const entry = { ...lease, activeCalls: 0 };
      const index = this.#pool.indexOf(lease.number);
      if (index !== -1) {
        this.#leases.set(lease.number, entry);
        leased.add(index);
      } else if (this.#claimRanges(lease.tenant)?.has(lease.number))
        this.#claimed.set(lease.number, entry);
      else continue;
      this.#bySession.set(key(lease.tenant, lease.sessionId), lease.number);
    }
    for (let i = 0; i < this.#pool.size; i += 1) if (!leased.has(i)) this.#free.push(i);
  }

  get size(): number {
    return this.#pool.size;
  }

  get leased(): number {
    return this.#leases.size;
  }

  /**
   * In a cluster, before {@link lease}: agrees with the other gateways on the
   * session's pool number. The one the cluster last gave the session (or this
   * gateway did) if it can still be claimed, else the first free one no other
   * gateway holds; each number another holds goes to the end of the free
   * queue. A session whose token claims a number of the tenant's own blocks
   * needs nothing here (the company gave it). Alone (no `shared`), nothing to do.
   */
  async prepare(tenant: string, sessionId: string, claim?: unknown): Promise<void> {
    const shared = this.#shared;
    if (!shared) return;
    if (claim !== undefined && claim !== null) {
      if (checkCallerNumberClaim(claim, this.#claimRanges(tenant)).ok) return;
    }
    const holder = key(tenant, sessionId);
    const ttlMs = this.#config.graceSeconds * 1000;
    const theirs = await shared.reclaim(holder, ttlMs);
    if (theirs !== undefined && this.#pool.has(theirs))
      return this.#adopt(tenant, sessionId, theirs);
    const mine = this.#bySession.get(holder);
    if (
      mine !== undefined &&
      mine !== theirs &&
      this.#pool.has(mine) &&
      (await shared.claim(mine, holder, ttlMs))
    )
      return this.#adopt(tenant, sessionId, mine);
    const tried = new Set<string>();
    for (let i = 0; i < MAX_CLAIM_TRIES; i += 1) {
      const n = this.#take(this.#now());
      if (n === undefined) return;
      if (tried.has(n)) {
        // Round the whole free queue: every free number is held elsewhere.
        this.#giveBack(n);
        return;
      }
      tried.add(n);
      if (await shared.claim(n, holder, ttlMs)) return this.#adopt(tenant, sessionId, n);
      // Another gateway's session has it: the last to try again.
      this.#giveBack(n);
    }
  }

  /** The session holds `n` (the cluster agreed): whoever held it here loses it. */
  #adopt(tenant: string, sessionId: string, n: string): void {
    const k = key(tenant, sessionId);
    this.#free.delete(this.#pool.indexOf(n));
    const previous = this.#leases.get(n);
    if (previous) {
      const pk = key(previous.tenant, previous.sessionId);
      if (pk !== k && this.#bySession.get(pk) === n) this.#bySession.delete(pk);
    }
    const old = this.#bySession.get(k);
    if (old !== undefined && old !== n && this.#leases.get(old)?.sessionId === sessionId) {
      this.#leases.delete(old);
      this.#giveBack(old);
    }
    const expiresAt = this.#now() + this.#config.graceSeconds * 1000;
    const activeCalls =
      previous && key(previous.tenant, previous.sessionId) === k ? previous.activeCalls : 0;
    this.#leases.set(n, { tenant, sessionId, expiresAt, activeCalls, written: true });
    this.#bySession.set(k, n);
    this.#write(this.#store.assignNumber(tenant, sessionId, n, false, expiresAt));
  }

  /**
   * The session's number for a call that starts now: the one its token claims
   * when the tenant may use it (`claim`: the token's `callerNumber`, anything or
   * undefined), else the one it had from the pool if it still holds it, else a
   * fresh one.
   */
  lease(tenant: string, sessionId: string, claim?: unknown): SessionNumber {
    const now = this.#now();
    const expiresAt = now + this.#config.graceSeconds * 1000;
    if (claim !== undefined && claim !== null) {
      const checked = checkCallerNumberClaim(claim, this.#claimRanges(tenant));
      if (checked.ok) {
        this.#onClaim({ accepted: true });
        return this.#leaseClaimed(tenant, sessionId, checked.number, expiresAt);
      }
      this.#onClaim({ accepted: false, reason: checked.reason });
      this.#logger.warn(
        { tenant, sessionId, claim: String(claim).slice(0, 40), reason: checked.reason },
        'callerNumber claim refused: leasing from the pool',
      );
    }
    const held = this.#bySession.get(key(tenant, sessionId));
    const current = held === undefined ? undefined : this.#leases.get(held);
    // Still ours, even past its grace period, as long as no other session reclaimed it.
    if (held !== undefined && current) {
      current.activeCalls += 1;
      current.expiresAt = expiresAt;
      if (current.activeCalls === 1) this.#shared?.hold(held, key(tenant, sessionId));
      if (current.written) current.written = false;
      else this.#write(this.#store.extendNumber(tenant, sessionId, expiresAt));
      return { number: held, fallback: false, source: 'pool' };
    }
    // In a cluster a number is taken only in prepare(), where the gateways agree:
    // none agreed (every one held elsewhere) is an exhausted pool.
    const number = this.#shared ? undefined : this.#take(now);
    if (number === undefined) {
      this.#onExhausted();
      this.#logger.warn(
        { tenant, sessionId, fallback: this.#config.fallback },
        'number pool exhausted: using the fallback number',
      );
      this.#write(
        this.#store.assignNumber(tenant, sessionId, this.#config.fallback, true, expiresAt),
      );
      return { number: this.#config.fallback, fallback: true, source: 'fallback' };
    }
    this.#leases.set(number, { tenant, sessionId, expiresAt, activeCalls: 1 });
    this.#bySession.set(key(tenant, sessionId), number);
    this.#write(this.#store.assignNumber(tenant, sessionId, number, false, expiresAt));
    return { number, fallback: false, source: 'pool' };
  }

  /** A claimed number: the session holds it from now; another session that held it loses it. */
  #leaseClaimed(
    tenant: string,
    sessionId: string,
    number: string,
    expiresAt: number,
  ): SessionNumber {
    const current = this.#claimed.get(number);
    if (current && current.tenant === tenant && current.sessionId === sessionId) {
      current.activeCalls += 1;
      current.expiresAt = expiresAt;
      this.#write(this.#store.extendNumber(tenant, sessionId, expiresAt));
    } else {
      if (current) {
        // The company gave the number to a new session: the latest token wins.
        this.#logger.info(
          { number, from: current.sessionId, to: sessionId, activeCalls: current.activeCalls },
          'claimed caller number moves to another session',
        );
        const previous = key(current.tenant, current.sessionId);
        if (this.#bySession.get(previous) === number) this.#bySession.delete(previous);
      }
      this.#pruneClaimed();
      this.#claimed.set(number, { tenant, sessionId, expiresAt, activeCalls: 1 });
      this.#write(this.#store.assignNumber(tenant, sessionId, number, false, expiresAt));
    }
    this.#bySession.set(key(tenant, sessionId), number);
    return { number, fallback: false, source: 'claim' };
  }

  /** Drops claimed leases long expired once the table has grown (amortised: claims are unbounded). */
  #pruneClaimed(): void {
    if (this.#claimed.size < this.#claimedPruneAt) return;
    const now = this.#now();
    for (const [number, lease] of this.#claimed) {
      if (lease.activeCalls > 0 || lease.expiresAt > now) continue;
      this.#claimed.delete(number);
      const k = key(lease.tenant, lease.sessionId);
      if (this.#bySession.get(k) === number) this.#bySession.delete(k);
    }
    this.#claimedPruneAt = Math.max(CLAIMED_PRUNE_FLOOR, this.#claimed.size * 2);
  }

  /** A call that got `number` from {@link lease} ended; the grace period starts when the last one does. */
  release(tenant: string, sessionId: string, number: string): void {
    const lease = this.#leases.get(number) ?? this.#claimed.get(number);
    if (!lease || lease.tenant !== tenant || lease.sessionId !== sessionId) return;
    lease.activeCalls = Math.max(0, lease.activeCalls - 1);
    if (lease.activeCalls === 0) {
      lease.expiresAt = this.#now() + this.#config.graceSeconds * 1000;
      if (this.#leases.get(number) === lease)
        this.#shared?.unhold(number, key(tenant, sessionId), this.#config.graceSeconds * 1000);
      this.#write(this.#store.extendNumber(tenant, sessionId, lease.expiresAt));
    }
  }

  /** The session holding `number` now, if any. */
  holder(number: string): { tenant: string; sessionId: string } | undefined {
    const lease = this.#leases.get(number) ?? this.#claimed.get(number);
    if (!lease || (lease.activeCalls === 0 && lease.expiresAt <= this.#now())) return undefined;
    return { tenant: lease.tenant, sessionId: lease.sessionId };
  }

  #write(written: Promise<void>): void {
    written.catch((err: unknown) => this.#logger.error({ err }, 'number lease not written'));
  }

  /** A pool number goes back to the end of the free queue. */
  #giveBack(n: string): void {
    const index = this.#pool.indexOf(n);
    if (index !== -1) this.#free.push(index);
  }

  #take(now: number): string | undefined {
    const first = this.#free.shift();
    if (first !== undefined) return this.#pool.numberAt(first);
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
      const k = key(lease.tenant, lease.sessionId);
      // The session may hold a claimed number by now: only its pool number goes.
      if (this.#bySession.get(k) === oldest) {
        this.#bySession.delete(k);
        this.#write(this.#store.releaseNumber(lease.tenant, lease.sessionId));
      }
    }
    this.#leases.delete(oldest);
    return oldest;
  }
}

function key(tenant: string, sessionId: string): string {
  return `${tenant}\n${sessionId}`;
}
