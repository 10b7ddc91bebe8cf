/**
 * Callbacks in PostgreSQL (`storage.kind: postgres`), shared by every
 * gateway: any of them reads, lists, cancels and counts (the rate limits)
 * every callback. Each row has an `owner`, the gateway that asked for it (or
 * took it over from a lost one): only the owner's `claim` moves it from
 * scheduled to calling, in one conditional UPDATE, so a callback is dialled
 * by one gateway however many schedule it. The fee's mark is written inside
 * the shared ledger's posting ({@link PgCallbackStore.chargeWrite}).
 */
import { ParleyError } from '@parley/shared/errors';
import { inTransaction, isUniqueViolation, type PgPool } from '../storage/postgres/index.js';
import type { CallbackRecord, CallbackState } from './model.js';
import {
  COLUMNS,
  fromRow,
  toRow,
  rateLimited,
  type CallbackCharge,
  type CallbackLimits,
  type CallbackListFilter,
  type CallbackStore,
  type ChargeWrite,
  type Row,
  type SharedCallbackRows,
} from './store.js';

const NAMES = COLUMNS.split(', ');
const FOR_NUMBER = 'phone = $1 AND created_at >= $2';
const FOR_SESSION = 'tenant = $1 AND session_id = $2 AND created_at >= $3';
/** The advisory locks' classes (first key) of the rate limits: a number's, a session's. */
const NUMBER_LOCK = 0x63620001;
const SESSION_LOCK = 0x63620002;
const INSERT = `INSERT INTO cb_callbacks (${COLUMNS}, watch_hash, owner)
  VALUES (${NAMES.map((_, i) => `$${i + 1}`).join(', ')}, $${NAMES.length + 1}, $${NAMES.length + 2})`;
/** The changing fields ($1 the id; never the charge's, written by `markCharged` alone). */
const CHANGING = [
  'due_at',
  'expires_at',
  'state',
  'outcome',
  'code',
  'connected_at',
  'attempts',
  'dialogs',
  'ringing',
  'updated_at',
  'ended_at',
] as const;
// A connection is never taken back: a write of an older record (no connection yet) keeps it.
const SET = CHANGING.map((c, i) =>
  c === 'connected_at' ? `${c} = COALESCE(${c}, $${i + 2})` : `${c} = $${i + 2}`,
).join(', ');
const NEXT = CHANGING.length + 2;
const changing = (r: CallbackRecord): unknown[] => {
  const row = toRow(r);
  return [row.id, ...CHANGING.map((c) => row[c])];
};

export class PgCallbackStore implements CallbackStore {
  readonly owner: string;
  readonly shared: SharedCallbackRows;
  readonly #pool: PgPool;

  /** `owner`: this gateway's `shared.instanceId`. */
  constructor(pool: PgPool, owner: string) {
    this.#pool = pool;
    this.owner = owner;
    this.shared = {
      openOwners: async () =>
        (
          await pool.query<{ owner: string }>(
            "SELECT DISTINCT owner FROM cb_callbacks WHERE state <> 'ended'",
          )
        ).rows.map((r) => r.owner),
      inProgressOf: (lost) =>
        this.#rows(`WHERE owner = $1 AND state NOT IN ('scheduled', 'ended')`, [lost]),
      adopt: async (lost) =>
        (
          await pool.query<Row>(
            `UPDATE cb_callbacks SET owner = $2 WHERE owner = $1 AND state = 'scheduled'
             RETURNING ${COLUMNS}`,
            [lost, this.owner],
          )
        ).rows.map(fromRow),
    };
  }

  async insert(record: CallbackRecord, watchHash: string, limits?: CallbackLimits): Promise<void> {
    const row = toRow(record);
    const values = [...NAMES.map((n) => row[n as keyof Row]), watchHash, this.owner];
    try {
      if (!limits) await this.#pool.query(INSERT, values);
      else
        await inTransaction(this.#pool, async (client) => {
          // Requests for one number (one session) take turns, on every gateway, until the commit:
          // the count and the insert are one step. Always the number's lock first: no deadlock.
          await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
            NUMBER_LOCK,
            record.phone,
          ]);
          const { tenant, sessionId } = limits.perSession;
          await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
            SESSION_LOCK,
            `${tenant}\n${sessionId}`,
          ]);
          const count = async (where: string, args: unknown[]) =>
            Number(
              (
                await client.query<{ n: string }>(
                  `SELECT count(*) AS n FROM cb_callbacks WHERE ${where}`,
                  args,
                )
              ).rows[0]?.n ?? 0,
            );
          if (
            (await count(FOR_NUMBER, [record.phone, limits.perNumber.since])) >=
            limits.perNumber.max
          )
            throw rateLimited('number');
          if (
            (await count(FOR_SESSION, [tenant, sessionId, limits.perSession.since])) >=
            limits.perSession.max
          )
            throw rateLimited('session');
          await client.query(INSERT, values);
        });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ParleyError('replayed', 'this callback token was used already', {
          expose: true,
        });
      throw error;
    }
  }

  async get(id: string): Promise<CallbackRecord | undefined> {
    return (await this.#rows('WHERE id = $1', [id]))[0];
  }

  async save(record: CallbackRecord): Promise<void> {
    // Never over an ended one: a gateway judged lost while it ran must not undo a survivor's end.
    await this.#pool.query(
      `UPDATE cb_callbacks SET ${SET} WHERE id = $1 AND state <> 'ended'`,
      changing(record),
    );
  }

  async saveIf(record: CallbackRecord, from: CallbackState): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE cb_callbacks SET ${SET} WHERE id = $1 AND state = $${NEXT}`,
      [...changing(record), from],
    );
    return (rowCount ?? 0) > 0;
  }

  async claim(record: CallbackRecord, token: string, again = false): Promise<boolean> {
    // One statement: of two gateways claiming at once, the second re-reads the row and finds it
    // calling. Asked again (the first's answer lost), the row this token moved is this claim's too:
    // an UPDATE waits for the first if it still runs, then reads the row it left (READ COMMITTED).
    const mine = again ? ` OR (state = 'calling' AND claim_token = $${NEXT + 1})` : '';
    const { rowCount } = await this.#pool.query(
      `UPDATE cb_callbacks SET ${SET}, claim_token = $${NEXT + 1}
       WHERE id = $1 AND owner = $${NEXT} AND (state = 'scheduled'${mine})`,
      [...changing(record), this.owner, token],
    );
    return (rowCount ?? 0) > 0;
  }

  async markCharged(id: string, charge: CallbackCharge): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE cb_callbacks SET charged_at = $2, charge_key = $3, charge_tx = $4, updated_at = $2
       WHERE id = $1 AND charged_at IS NULL AND connected_at IS NOT NULL`,
      [id, charge.at, charge.key, charge.transactionId],
    );
    return (rowCount ?? 0) > 0;
  }

  chargeWrite(id: string, key: string, at: number): ChargeWrite {
    return {
      // In the ledger's transaction, after its insert: the key's transaction is visible here.
      sql: `UPDATE cb_callbacks SET charged_at = $2, charge_key = $3, updated_at = $2,
              charge_tx = (SELECT id FROM ledger_transactions WHERE key = $3)
            WHERE id = $1 AND charged_at IS NULL AND connected_at IS NOT NULL`,
      params: [id, at, key],
    };
  }

  list(filter: CallbackListFilter): Promise<CallbackRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, value: string | number) => {
      args.push(value);
      where.push(`${sql} $${args.length}`);
    };
    if (filter.tenant !== undefined) add('tenant =', filter.tenant);
    if (filter.state !== undefined) add('state =', filter.state);
    if (filter.before !== undefined) add('created_at <', filter.before);
    args.push(filter.limit);
    return this.#rows(
      `${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT $${args.length}`,
      args,
    );
  }

  scheduled(): Promise<CallbackRecord[]> {
    return this.#rows(`WHERE owner = $1 AND state = 'scheduled' ORDER BY due_at, created_at`, [
      this.owner,
    ]);
  }

  inProgress(): Promise<CallbackRecord[]> {
    return this.shared.inProgressOf(this.owner);
  }

  uncharged(): Promise<CallbackRecord[]> {
    return this.#rows(
      `WHERE state = 'ended' AND connected_at IS NOT NULL AND charged_at IS NULL`,
      [],
    );
  }

  async countForNumber(phone: string, since: number): Promise<number> {
    return this.#count(FOR_NUMBER, [phone, since]);
  }

  async countForSession(tenant: string, sessionId: string, since: number): Promise<number> {
    return this.#count(FOR_SESSION, [tenant, sessionId, since]);
  }

  async watchHash(id: string): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ watch_hash: string }>(
      'SELECT watch_hash FROM cb_callbacks WHERE id = $1',
      [id],
    );
    return rows[0]?.watch_hash;
  }

  async #count(where: string, args: unknown[]): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `SELECT count(*) AS n FROM cb_callbacks WHERE ${where}`,
      args,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async #rows(where: string, args: unknown[]): Promise<CallbackRecord[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM cb_callbacks ${where}`,
      args,
    );
    return rows.map(fromRow);
  }
}
