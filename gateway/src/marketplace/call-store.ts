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

/** What a call adds to the day's counts of its listing and publisher. */
export interface CountDelta {
  readonly calls?: number;
  readonly answered?: number;
  readonly qualified?: number;
  readonly spend?: number;
}

/** What the money said when a call qualified: the ledger key (null: nothing posted) and the amount. */
export interface QualifiedMoney {
  readonly chargeKey: string | null;
  readonly charged: number;
}

export type QualifyRecord =
  | { readonly call: MarketplaceCall; readonly recorded: true; readonly money: QualifiedMoney }
  | { readonly call: MarketplaceCall; readonly recorded: false };

/**
 * Marketplace calls and the daily counts they feed: the gateway's SQLite
 * file, or PostgreSQL shared by the gateways (`postgres/pg-call-store.ts`;
 * `postgres/call-store.postgres.test.ts` runs the same cases on both). Each
 * change of a call and its count are written together, and the count only
 * when the change happened: a call recorded, connected or qualified twice (by
 * two gateways, or again after a crash) is counted once.
 */
export interface MarketplaceCallStore {
  /**
   * Records the call once (keyed by its id) and counts it as one of the
   * day's calls unless `counted` is false (a refused call). False: it was
   * recorded before, and nothing was written.
   */
  insert(call: MarketplaceCall, counted: boolean): Promise<boolean>;
  get(callId: string): Promise<MarketplaceCall | undefined>;
  /** Many calls in one query (a page of the API's calls). */
  getMany(callIds: readonly string[]): Promise<Map<string, MarketplaceCall>>;
  /** Marks the call connected and counts the answer on `day`, once; false: it was before (or no such call). */
  connect(callId: string, day: string, connectedAt: number, qualifiesAt: number): Promise<boolean>;
  /**
   * Marks the call qualified and counts it on `day` (one qualified call, the
   * spend), once. `money` is asked first, with the call as stored: with
   * SQLite inside the same write transaction (the file's ledger posts the
   * charge there, so charge, call and count commit together). `beforeCommit`
   * runs last before the commit (the crash test). Undefined: no such call;
   * `recorded: false`: it was qualified before, and nothing was written.
   */
  qualify(
    callId: string,
    day: string,
    at: number,
    money: (call: MarketplaceCall) => QualifiedMoney,
    beforeCommit?: (callId: string) => void,
  ): Promise<QualifyRecord | undefined>;
  setEnded(callId: string, at: number): Promise<void>;
  /** Adds a refund to the call and takes it off `day`'s spend. */
  refund(callId: string, day: string, amount: number): Promise<void>;
  /** This gateway's calls not ended (a crash left them open). */
  open(): Promise<MarketplaceCall[]>;
  /** When this gateway was last known alive (recovery's bound). */
  aliveAt(): Promise<number | undefined>;
  /**
   * PostgreSQL only: another gateway instance's open calls and heartbeat (a
   * survivor recovers a dead one's calls).
   */
  ownedBy?(owner: string): Pick<MarketplaceCallStore, 'open' | 'aliveAt'>;
  /** Other gateways with open calls here (shared stores only): whose a lost gateway's sweep recovers. */
  openOwners?(): Promise<string[]>;
  heartbeat(at: number): Promise<void>;
  list(filter: { tenant?: string; listingId?: string; limit: number }): Promise<MarketplaceCall[]>;
}

/** A call's row, the same in SQLite and PostgreSQL. */
export interface CallRow {
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

export const callOf = (r: CallRow): MarketplaceCall => ({
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

/** The store in the gateway's SQLite file (one gateway). */
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
      get: db.prepare<[string], CallRow>('SELECT * FROM mp_calls WHERE call_id = ?'),
      getMany: db.prepare<[string], CallRow>(
        'SELECT * FROM mp_calls WHERE call_id IN (SELECT value FROM json_each(?))',
      ),
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
      open: db.prepare<[], CallRow>('SELECT * FROM mp_calls WHERE ended_at IS NULL'),
      aliveAt: db.prepare<[], { alive_at: number }>(
        'SELECT alive_at FROM mp_heartbeat WHERE id = 1',
      ),
      heartbeat: db.prepare(
        'INSERT INTO mp_heartbeat (id, alive_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET alive_at = MAX(alive_at, excluded.alive_at)',
      ),
    };
  }

  /**
   * Runs `fn` in one write transaction of the file (the SQLite ledger's
   * refund commits with the call's refunded amount); the sync methods nest.
   */
  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** The call, read in the caller's transaction. */
  getNow(callId: string): MarketplaceCall | undefined {
    const row = this.#s.get.get(callId);
    return row ? callOf(row) : undefined;
  }

  /** {@link refund}, in the caller's transaction. */
  refundNow(callId: string, day: string, amount: number): void {
    this.atomically(() => {
      const call = this.getNow(callId);
      if (!call) return;
      this.#s.refund.run(amount, callId);
      this.#count(day, call, { spend: -amount });
    });
  }

  #count(day: string, call: MarketplaceCall, add: CountDelta): void {
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

  async insert(call: MarketplaceCall, counted: boolean): Promise<boolean> {
    return this.atomically(() => {
      const fresh = this.#s.insert.run(call).changes === 1;
      if (fresh && counted) this.#count(call.day, call, { calls: 1 });
      return fresh;
    });
  }

  async get(callId: string): Promise<MarketplaceCall | undefined> {
    return this.getNow(callId);
  }

  async getMany(callIds: readonly string[]): Promise<Map<string, MarketplaceCall>> {
    if (callIds.length === 0) return new Map();
    const rows = this.#s.getMany.all(JSON.stringify(callIds));
    return new Map(rows.map((r) => [r.call_id, callOf(r)]));
  }

  async connect(
    callId: string,
    day: string,
    connectedAt: number,
    qualifiesAt: number,
  ): Promise<boolean> {
    return this.atomically(() => {
      const call = this.getNow(callId);
      if (!call || this.#s.connected.run(connectedAt, qualifiesAt, callId).changes !== 1)
        return false;
      this.#count(day, call, { answered: 1 });
      return true;
    });
  }

  async qualify(
    callId: string,
    day: string,
    at: number,
    money: (call: MarketplaceCall) => QualifiedMoney,
    beforeCommit?: (callId: string) => void,
  ): Promise<QualifyRecord | undefined> {
    return this.atomically((): QualifyRecord | undefined => {
      // Read under the write lock: another process may have qualified it.
      const call = this.getNow(callId);
      if (!call) return undefined;
      if (call.qualifiedAt !== null) return { call, recorded: false };
      const m = money(call);
      this.#s.qualified.run(at, m.chargeKey, m.charged, callId);
      this.#count(day, call, { qualified: 1, spend: m.charged });
      beforeCommit?.(callId);
      return { call, recorded: true, money: m };
    });
  }

  async setEnded(callId: string, at: number): Promise<void> {
    this.#s.ended.run(at, callId);
  }

  async refund(callId: string, day: string, amount: number): Promise<void> {
    this.refundNow(callId, day, amount);
  }

  async open(): Promise<MarketplaceCall[]> {
    return this.#s.open.all().map(callOf);
  }

  async aliveAt(): Promise<number | undefined> {
    return this.#s.aliveAt.get()?.alive_at;
  }

  async heartbeat(at: number): Promise<void> {
    this.#s.heartbeat.run(at);
  }

  async list(filter: {
    tenant?: string;
    listingId?: string;
    limit: number;
  }): Promise<MarketplaceCall[]> {
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
      .prepare<(string | number)[], CallRow>(
        `SELECT * FROM mp_calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ?`,
      )
      .all(...params, filter.limit)
      .map(callOf);
  }
}
