import type { CallTokenPublicClaims, PrivateClaims } from '@parley/shared/tokens';
import type { SqliteDatabase } from './database.js';
import type { SessionRecord } from './records.js';

/**
 * Web sessions seen in call tokens, and the caller-ID number each one holds.
 * Writes are applied in call order (the number pool writes behind); reads see
 * every write asked for before them.
 */
export interface SessionStore {
  /** Records that a verified token of this session arrived (creates or refreshes). */
  touch(input: {
    tenant: string;
    sessionId: string;
    origin: string;
    publicClaims: CallTokenPublicClaims;
    privateClaims: PrivateClaims;
    at: number;
  }): Promise<void>;
  get(tenant: string, sessionId: string): Promise<SessionRecord | undefined>;
  /** The session currently holding `number` (fallback numbers are not looked up). */
  getByNumber(number: string): Promise<SessionRecord | undefined>;
  /** Gives `number` to the session; any other session holding it loses it. */
  assignNumber(
    tenant: string,
    sessionId: string,
    number: string,
    fallback: boolean,
    expiresAt: number,
  ): Promise<void>;
  extendNumber(tenant: string, sessionId: string, expiresAt: number): Promise<void>;
  releaseNumber(tenant: string, sessionId: string): Promise<void>;
  /** Leases not yet expired at `now` (to rebuild the pool after a restart). */
  liveLeases(now: number): Promise<LiveLease[]>;
}

export interface LiveLease {
  readonly tenant: string;
  readonly sessionId: string;
  readonly number: string;
  readonly expiresAt: number;
}

export interface SessionRow {
  tenant: string;
  session_id: string;
  origin: string;
  public_claims: string;
  private_claims: string;
  number: string | null;
  number_fallback: number;
  number_expires_at: number | null;
  first_seen_at: number;
  last_seen_at: number;
}

/** The columns of a live lease (`liveLeases`), in both stores. */
export type LeaseRow = Pick<SessionRow, 'tenant' | 'session_id'> & {
  number: string;
  number_expires_at: number;
};

export function leaseFromRow(r: LeaseRow): LiveLease {
  return {
    tenant: r.tenant,
    sessionId: r.session_id,
    number: r.number,
    expiresAt: r.number_expires_at,
  };
}

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    tenant: row.tenant,
    sessionId: row.session_id,
    origin: row.origin,
    publicClaims: JSON.parse(row.public_claims) as CallTokenPublicClaims,
    privateClaims: JSON.parse(row.private_claims) as PrivateClaims,
    number: row.number,
    numberFallback: row.number_fallback === 1,
    numberExpiresAt: row.number_expires_at,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
  };
}

export class SqliteSessionStore implements SessionStore {
  readonly #db: SqliteDatabase;
  readonly #touch;
  readonly #get;
  readonly #getByNumber;
  readonly #clearNumber;
  readonly #setNumber;
  readonly #extend;
  readonly #release;
  readonly #live;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#touch = db.prepare(`
      INSERT INTO sessions (tenant, session_id, origin, public_claims, private_claims, first_seen_at, last_seen_at)
      VALUES (@tenant, @sessionId, @origin, @publicClaims, @privateClaims, @at, @at)
      ON CONFLICT (tenant, session_id) DO UPDATE SET
        origin = excluded.origin, public_claims = excluded.public_claims,
        private_claims = excluded.private_claims, last_seen_at = excluded.last_seen_at`);
    this.#get = db.prepare<[string, string], SessionRow>(
      'SELECT * FROM sessions WHERE tenant = ? AND session_id = ?',
    );
    this.#getByNumber = db.prepare<[string], SessionRow>(
      'SELECT * FROM sessions WHERE number = ? AND number_fallback = 0',
    );
    this.#clearNumber = db.prepare(
      'UPDATE sessions SET number = NULL, number_expires_at = NULL WHERE number = ? AND number_fallback = 0',
    );
    this.#setNumber = db.prepare(
      'UPDATE sessions SET number = ?, number_fallback = ?, number_expires_at = ? WHERE tenant = ? AND session_id = ?',
    );
    this.#extend = db.prepare(
      'UPDATE sessions SET number_expires_at = ? WHERE tenant = ? AND session_id = ?',
    );
    this.#release = db.prepare(
      'UPDATE sessions SET number = NULL, number_fallback = 0, number_expires_at = NULL WHERE tenant = ? AND session_id = ?',
    );
    this.#live = db.prepare<[number], LeaseRow>(
      'SELECT tenant, session_id, number, number_expires_at FROM sessions WHERE number IS NOT NULL AND number_fallback = 0 AND number_expires_at > ?',
    );
  }

  async touch(input: Parameters<SessionStore['touch']>[0]): Promise<void> {
    this.#touch.run({
      tenant: input.tenant,
      sessionId: input.sessionId,
      origin: input.origin,
      publicClaims: JSON.stringify(input.publicClaims),
      privateClaims: JSON.stringify(input.privateClaims),
      at: input.at,
    });
  }

  async get(tenant: string, sessionId: string): Promise<SessionRecord | undefined> {
    const row = this.#get.get(tenant, sessionId);
    return row ? sessionFromRow(row) : undefined;
  }

  async getByNumber(number: string): Promise<SessionRecord | undefined> {
    const row = this.#getByNumber.get(number);
    return row ? sessionFromRow(row) : undefined;
  }

  async assignNumber(
    tenant: string,
    sessionId: string,
    number: string,
    fallback: boolean,
    expiresAt: number,
  ): Promise<void> {
    this.#db.transaction(() => {
      if (!fallback) this.#clearNumber.run(number);
      this.#setNumber.run(number, fallback ? 1 : 0, expiresAt, tenant, sessionId);
    })();
  }

  async extendNumber(tenant: string, sessionId: string, expiresAt: number): Promise<void> {
    this.#extend.run(expiresAt, tenant, sessionId);
  }

  async releaseNumber(tenant: string, sessionId: string): Promise<void> {
    this.#release.run(tenant, sessionId);
  }

  async liveLeases(now: number): Promise<LiveLease[]> {
    return this.#live.all(now).map(leaseFromRow);
  }
}
