/**
 * The stores that must last, in PostgreSQL (`storage.kind: postgres`): the
 * same contracts as the SQLite ones (`../store-contract.ts` runs both), the
 * same columns (JSON as TEXT, epoch milliseconds as BIGINT).
 * Writes are queued per call and per session (`KeyedQueue`); a message waits
 * for its call's record (the foreign key), since both share the call's queue.
 */
import type { StoredMessage } from '@parley/shared/protocol';
import {
  agentFromRow,
  agentParams,
  type AgentRow,
  type AgentStore,
  type StoredAgent,
} from '../agent-store.js';
import {
  callFromRow,
  callParams,
  endAttempts,
  MUTABLE_COLUMNS,
  type CallRow,
  type CallStore,
  type SharedCallRecords,
} from '../call-store.js';
import { messageFromRow, type MessageRow, type MessageStore } from '../message-store.js';
import type { CallRecord, InterruptedCall, SessionRecord, StoredDialog } from '../records.js';
import {
  leaseFromRow,
  sessionFromRow,
  type LeaseRow,
  type LiveLease,
  type SessionRow,
  type SessionStore,
} from '../session-store.js';
import { KeyedQueue } from './keyed-queue.js';
import { inTransaction, type PgPool } from './pg-database.js';

const COLUMNS = [...Object.keys(callParams({} as CallRecord)), 'owner'];
const INSERT = `INSERT INTO calls (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
const UPDATE = `UPDATE calls SET ${MUTABLE_COLUMNS.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`;

export class PgCallStore implements CallStore, SharedCallRecords {
  readonly #pool: PgPool;
  readonly #owner: string;
  readonly #queue: KeyedQueue;

  /** `owner`: this gateway instance (`shared.instanceId`): it closes only its own calls at start. */
  constructor(pool: PgPool, owner: string, queue = new KeyedQueue()) {
    this.#pool = pool;
    this.#owner = owner;
    this.#queue = queue;
  }

  insert(record: CallRecord): Promise<void> {
    const params: Record<string, unknown> = { ...callParams(record), owner: this.#owner };
    const values = COLUMNS.map((c) => params[c]);
    return this.#queue.run(record.id, async () => void (await this.#pool.query(INSERT, values)));
  }

  update(record: CallRecord): Promise<void> {
    const params = callParams(record);
    const values = [params.id, ...MUTABLE_COLUMNS.map((c) => params[c])];
    return this.#queue.run(record.id, async () => void (await this.#pool.query(UPDATE, values)));
  }

  async get(id: string): Promise<CallRecord | undefined> {
    await this.#queue.after(id);
    const { rows } = await this.#pool.query<CallRow>('SELECT * FROM calls WHERE id = $1', [id]);
    return rows[0] ? callFromRow(rows[0]) : undefined;
  }

  async listBySession(tenant: string, sessionId: string, limit = 50): Promise<CallRecord[]> {
    const { rows } = await this.#pool.query<CallRow>(
      'SELECT * FROM calls WHERE tenant = $1 AND session_id = $2 ORDER BY created_at DESC LIMIT $3',
      [tenant, sessionId, limit],
    );
    return rows.map(callFromRow);
  }

  async listRecent(
    limit: number,
    filter: { tenant?: string; agentId?: string } = {},
  ): Promise<CallRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.agentId !== undefined) {
      params.push(filter.agentId);
      where.push(`agent_id = $${params.length}`);
    }
    if (filter.tenant !== undefined) {
      params.push(filter.tenant);
      where.push(`tenant = $${params.length}`);
    }
    params.push(limit);
    const { rows } = await this.#pool.query<CallRow>(
      `SELECT * FROM calls ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(callFromRow);
  }

  async listByCustomer(tenant: string, customerId: string, sinceMs: number): Promise<CallRecord[]> {
    const { rows } = await this.#pool.query<CallRow>(
      'SELECT * FROM calls WHERE tenant = $1 AND customer_id = $2 AND created_at >= $3 ORDER BY created_at LIMIT 1000',
      [tenant, customerId, sinceMs],
    );
    return rows.map(callFromRow);
  }

  closeInterrupted(at: number): Promise<InterruptedCall[]> {
    return this.closeOwned(this.#owner, at, 'gateway_restart');
  }

  /** The instances, other than this one, that own calls still open (`calls_open` index). */
  async openOwners(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ owner: string }>(
      `SELECT DISTINCT owner FROM calls WHERE state <> 'ended' AND owner <> $1`,
      [this.#owner],
    );
    return rows.map((row) => row.owner);
  }

  /**
   * Closes `owner`'s open calls, ended by the gateway at `at` with `reason`
   * (`gateway_restart` for this instance's own at start, `gateway_lost` for a
   * dead one's). FOR UPDATE and `state <> 'ended'`: of two gateways closing
   * the same calls at once, each call is closed (and returned) once.
   */
  closeOwned(owner: string, at: number, reason: string): Promise<InterruptedCall[]> {
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<Pick<CallRow, 'id' | 'dialogs' | 'attempts'>>(
        `SELECT id, dialogs, attempts FROM calls WHERE state <> 'ended' AND owner = $1 FOR UPDATE`,
        [owner],
      );
      for (const row of rows) {
        await client.query(
          `UPDATE calls SET state = 'ended',
             outcome = CASE WHEN answered_at IS NOT NULL THEN 'answered' ELSE 'failed' END,
             ended_by = 'gateway', reason = $4, ended_at = $2, attempts = $3
           WHERE id = $1`,
          [row.id, at, JSON.stringify(endAttempts(row.attempts, at)), reason],
        );
      }
      return rows.map((row) => ({
        id: row.id,
        dialogs: JSON.parse(row.dialogs) as StoredDialog[],
      }));
    });
  }
}

export class PgMessageStore implements MessageStore {
  readonly #pool: PgPool;
  readonly #queue: KeyedQueue;

  /** `queue`: the call store's, so that a message is written after its call's record. */
  constructor(pool: PgPool, queue: KeyedQueue) {
    this.#pool = pool;
    this.#queue = queue;
  }

  append(callId: string, m: StoredMessage): Promise<void> {
    const values = [callId, m.seq, m.from, Date.parse(m.receivedAt), JSON.stringify(m.message)];
    return this.#queue.run(callId, async () => {
      await this.#pool.query(
        'INSERT INTO messages (call_id, seq, sender, received_at, body) VALUES ($1, $2, $3, $4, $5)',
        values,
      );
    });
  }

  async list(callId: string): Promise<StoredMessage[]> {
    await this.#queue.after(callId);
    const { rows } = await this.#pool.query<MessageRow>(
      'SELECT seq, sender, received_at, body FROM messages WHERE call_id = $1 ORDER BY seq',
      [callId],
    );
    return rows.map(messageFromRow);
  }
}

/** The first key of the advisory locks that order a number's assignments (migrations use another). */
const NUMBER_LOCK = 0x5041524c; // "PARL"

export class PgSessionStore implements SessionStore {
  readonly #pool: PgPool;
  readonly #queue: KeyedQueue;

  constructor(pool: PgPool, queue = new KeyedQueue()) {
    this.#pool = pool;
    this.#queue = queue;
  }

  #write(tenant: string, sessionId: string, fn: () => Promise<unknown>): Promise<void> {
    return this.#queue.run(`${tenant}\n${sessionId}`, async () => void (await fn()));
  }

  touch(input: Parameters<SessionStore['touch']>[0]): Promise<void> {
    const values = [
      input.tenant,
      input.sessionId,
      input.origin,
      JSON.stringify(input.publicClaims),
      JSON.stringify(input.privateClaims),
      input.at,
    ];
    return this.#write(input.tenant, input.sessionId, () =>
      this.#pool.query(
        `INSERT INTO sessions (tenant, session_id, origin, public_claims, private_claims, first_seen_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (tenant, session_id) DO UPDATE SET
           origin = excluded.origin, public_claims = excluded.public_claims,
           private_claims = excluded.private_claims, last_seen_at = excluded.last_seen_at`,
        values,
      ),
    );
  }

  async get(tenant: string, sessionId: string): Promise<SessionRecord | undefined> {
    await this.#queue.after(`${tenant}\n${sessionId}`);
    const { rows } = await this.#pool.query<SessionRow>(
      'SELECT * FROM sessions WHERE tenant = $1 AND session_id = $2',
      [tenant, sessionId],
    );
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async getByNumber(number: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.#pool.query<SessionRow>(
      'SELECT * FROM sessions WHERE number = $1 AND number_fallback = 0',
      [number],
    );
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  assignNumber(
    tenant: string,
    sessionId: string,
    number: string,
    fallback: boolean,
    expiresAt: number,
  ): Promise<void> {
    return this.#write(tenant, sessionId, () =>
      inTransaction(this.#pool, async (client) => {
        if (!fallback) {
          // Two sessions given one number at once (on two keys of the write
          // queue, or by two gateways): under READ COMMITTED the second would
          // not see the first's uncommitted row to take it back, and would hit
          // sessions_live_number. One transaction per number at a time: the
          // later one sees the earlier one's row and takes the number from it.
          await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
            NUMBER_LOCK,
            number,
          ]);
          await client.query(
            'UPDATE sessions SET number = NULL, number_expires_at = NULL WHERE number = $1 AND number_fallback = 0',
            [number],
          );
        }
        await client.query(
          'UPDATE sessions SET number = $1, number_fallback = $2, number_expires_at = $3 WHERE tenant = $4 AND session_id = $5',
          [number, fallback ? 1 : 0, expiresAt, tenant, sessionId],
        );
      }),
    );
  }

  extendNumber(tenant: string, sessionId: string, expiresAt: number): Promise<void> {
    return this.#write(tenant, sessionId, () =>
      this.#pool.query(
        'UPDATE sessions SET number_expires_at = $1 WHERE tenant = $2 AND session_id = $3',
        [expiresAt, tenant, sessionId],
      ),
    );
  }

  releaseNumber(tenant: string, sessionId: string): Promise<void> {
    return this.#write(tenant, sessionId, () =>
      this.#pool.query(
        'UPDATE sessions SET number = NULL, number_fallback = 0, number_expires_at = NULL WHERE tenant = $1 AND session_id = $2',
        [tenant, sessionId],
      ),
    );
  }

  async liveLeases(now: number): Promise<LiveLease[]> {
    const { rows } = await this.#pool.query<LeaseRow>(
      'SELECT tenant, session_id, number, number_expires_at FROM sessions WHERE number IS NOT NULL AND number_fallback = 0 AND number_expires_at > $1',
      [now],
    );
    return rows.map(leaseFromRow);
  }
}

export class PgAgentStore implements AgentStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async list(): Promise<StoredAgent[]> {
    const { rows } = await this.#pool.query<AgentRow>('SELECT * FROM agents ORDER BY tenant, id');
    return rows.map(agentFromRow);
  }

  async get(id: string): Promise<StoredAgent | undefined> {
    const { rows } = await this.#pool.query<AgentRow>('SELECT * FROM agents WHERE id = $1', [id]);
    return rows[0] ? agentFromRow(rows[0]) : undefined;
  }

  async put(agent: StoredAgent): Promise<void> {
    const p = agentParams(agent);
    await this.#pool.query(
      `INSERT INTO agents (id, tenant, username, realm, ha1_md5, ha1_sha256, profile, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, username = excluded.username,
         realm = excluded.realm, ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256,
         profile = excluded.profile, updated_at = excluded.updated_at`,
      [
        p.id,
        p.tenant,
        p.username,
        p.realm,
        p.ha1_md5,
        p.ha1_sha256,
        p.profile,
        p.created_at,
        p.updated_at,
      ],
    );
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#pool.query('DELETE FROM agents WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }
}
