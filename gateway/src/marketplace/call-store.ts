import type { SqliteDatabase } from '../storage/index.js';
import type { CallKind } from './model.js';

/** A call that reached a listing, with its billing state. */
export interface MarketplaceCall {
  readonly callId: string;
  readonly tenant: string;
  readonly kind: CallKind;
  readonly listingId: string;
  readonly advertiserId: string;
  readonly publisherId: string | null;
  readonly impressionId: string | null;
  /** What a qualified call costs: the impression's auction price, or the listing's bid. */
  readonly price: number;
  readonly minConnectedSeconds: number;
  /** Budget day the call started on. */
  readonly day: string;
  readonly startedAt: number;
  readonly connectedAt: number | null;
  readonly qualifiesAt: number | null;
  readonly qualifiedAt: number | null;
  readonly endedAt: number | null;
  readonly chargeKey: string | null;
  readonly charged: number;
  readonly refunded: number;
  /** Why the call was not put through (`number_not_allowed: …`), or null. */
  readonly refusal: string | null;
  /** The impression the caller claimed, when it was not taken, and why (`forged im_…`), or null. */
  readonly claim: string | null;
}

/**
 * Marketplace calls and the daily counts they feed (SQLite now, PostgreSQL
 * later). The billing writes a charge's every row inside one transaction
 * ({@link atomically}) together with the ledger's.
 */
export interface MarketplaceCallStore {
  atomically<T>(fn: () => T): T;
  insert(call: MarketplaceCall): boolean;
  get(callId: string): MarketplaceCall | undefined;
  setConnected(callId: string, connectedAt: number, qualifiesAt: number): void;
  setQualified(callId: string, at: number, chargeKey: string | null, charged: number): void;
  setEnded(callId: string, at: number): void;
  addRefund(callId: string, amount: number): void;
  /** Adds to the day's counts of a listing and publisher. */
  count(
    day: string,
    call: Pick<MarketplaceCall, 'tenant' | 'listingId' | 'advertiserId' | 'publisherId'>,
    add: { calls?: number; answered?: number; qualified?: number; spend?: number },
  ): void;
  /** Calls not ended (a crash left them open). */
  open(): MarketplaceCall[];
  aliveAt(): number | undefined;
  heartbeat(at: number): void;
  list(filter: { tenant?: string; listingId?: string; limit: number }): MarketplaceCall[];
}

interface Row {
  call_id: string;
  tenant: string;
  kind: CallKind;
  listing_id: string;
  advertiser_id: string;
  publisher_id: string | null;
  impression_id: string | null;
  price: number;
  min_connected_seconds: number;
  day: string;
  started_at: number;
  connected_at: number | null;
  qualifies_at: number | null;
  qualified_at: number | null;
  ended_at: number | null;
  charge_key: string | null;
  charged: number;
  refunded: number;
  refusal: string | null;
  claim: string | null;
}

const callOf = (r: Row): MarketplaceCall => ({
  callId: r.call_id,
  tenant: r.tenant,
  kind: r.kind,
  listingId: r.listing_id,
  advertiserId: r.advertiser_id,
  publisherId: r.publisher_id,
  impressionId: r.impression_id,
  price: r.price,
  minConnectedSeconds: r.min_connected_seconds,
  day: r.day,
  startedAt: r.started_at,
  connectedAt: r.connected_at,
  qualifiesAt: r.qualifies_at,
  qualifiedAt: r.qualified_at,
  endedAt: r.ended_at,
  chargeKey: r.charge_key,
  charged: r.charged,
  refunded: r.refunded,
  refusal: r.refusal,
  claim: r.claim,
});

export class SqliteMarketplaceCallStore implements MarketplaceCallStore {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = {
      insert: db.prepare(
        `INSERT INTO mp_calls (call_id, tenant, kind, listing_id, advertiser_id, publisher_id, impression_id, price,
           min_connected_seconds, day, started_at, connected_at, qualifies_at, qualified_at, ended_at, charge_key,
           charged, refunded, refusal, claim)
         VALUES (@callId, @tenant, @kind, @listingId, @advertiserId, @publisherId, @impressionId, @price,
           @minConnectedSeconds, @day, @startedAt, @connectedAt, @qualifiesAt, @qualifiedAt, @endedAt, @chargeKey,
           @charged, @refunded, @refusal, @claim)
         ON CONFLICT (call_id) DO NOTHING`,
      ),
      get: db.prepare<[string], Row>('SELECT * FROM mp_calls WHERE call_id = ?'),
      connected: db.prepare(
        'UPDATE mp_calls SET connected_at = ?, qualifies_at = ? WHERE call_id = ? AND connected_at IS NULL',
      ),
      qualified: db.prepare(
        'UPDATE mp_calls SET qualified_at = ?, charge_key = ?, charged = ? WHERE call_id = ? AND qualified_at IS NULL',
      ),
      ended: db.prepare('UPDATE mp_calls SET ended_at = ? WHERE call_id = ? AND ended_at IS NULL'),
      refund: db.prepare('UPDATE mp_calls SET refunded = refunded + ? WHERE call_id = ?'),
      count: db.prepare(
        `INSERT INTO mp_daily (day, tenant, listing_id, advertiser_id, publisher_id, calls, answered, qualified, spend)
         VALUES (@day, @tenant, @listingId, @advertiserId, @publisherId, @calls, @answered, @qualified, @spend)
         ON CONFLICT (day, listing_id, publisher_id) DO UPDATE SET calls = calls + excluded.calls,
           answered = answered + excluded.answered, qualified = qualified + excluded.qualified,
           spend = spend + excluded.spend`,
      ),
      open: db.prepare<[], Row>('SELECT * FROM mp_calls WHERE ended_at IS NULL'),
      aliveAt: db.prepare<[], { alive_at: number }>(
        'SELECT alive_at FROM mp_heartbeat WHERE id = 1',
      ),
      heartbeat: db.prepare(
        'INSERT INTO mp_heartbeat (id, alive_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET alive_at = MAX(alive_at, excluded.alive_at)',
      ),
    };
  }

  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  insert(call: MarketplaceCall): boolean {
    return this.#s.insert.run(call).changes === 1;
  }

  get(callId: string): MarketplaceCall | undefined {
    const row = this.#s.get.get(callId);
    return row ? callOf(row) : undefined;
  }

  setConnected(callId: string, connectedAt: number, qualifiesAt: number): void {
    this.#s.connected.run(connectedAt, qualifiesAt, callId);
  }

  setQualified(callId: string, at: number, chargeKey: string | null, charged: number): void {
    this.#s.qualified.run(at, chargeKey, charged, callId);
  }

  setEnded(callId: string, at: number): void {
    this.#s.ended.run(at, callId);
  }

  addRefund(callId: string, amount: number): void {
    this.#s.refund.run(amount, callId);
  }

  count(
    day: string,
    call: Pick<MarketplaceCall, 'tenant' | 'listingId' | 'advertiserId' | 'publisherId'>,
    add: { calls?: number; answered?: number; qualified?: number; spend?: number },
  ): void {
    this.#s.count.run({
      day,
      tenant: call.tenant,
      listingId: call.listingId,
      advertiserId: call.advertiserId,
      publisherId: call.publisherId ?? '',
      calls: add.calls ?? 0,
      answered: add.answered ?? 0,
      qualified: add.qualified ?? 0,
      spend: add.spend ?? 0,
    });
  }

  open(): MarketplaceCall[] {
    return this.#s.open.all().map(callOf);
  }

  aliveAt(): number | undefined {
    return this.#s.aliveAt.get()?.alive_at;
  }

  heartbeat(at: number): void {
    this.#s.heartbeat.run(at);
  }

  list(filter: { tenant?: string; listingId?: string; limit: number }): MarketplaceCall[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.listingId !== undefined) {
      where.push('listing_id = ?');
      params.push(filter.listingId);
    }
    return this.#db
      .prepare<(string | number)[], Row>(
        `SELECT * FROM mp_calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ?`,
      )
      .all(...params, filter.limit)
      .map(callOf);
  }
}
