/**
 * The webhook outbox in PostgreSQL (`storage.kind: postgres`): one outbox
 * for every gateway of the cluster, so the events a dead gateway had not sent
 * are sent by any live one (`webhooks.ts` looks at every lane each
 * heartbeat).
 *
 * A lane is held by a transaction-scoped advisory lock on its hash
 * (`pg_try_advisory_xact_lock`), taken before its head is read and let go by
 * the COMMIT that deletes the head (sent) or writes its retry (failed).
 * Chosen over the alternatives because:
 * - a row lock with `FOR UPDATE SKIP LOCKED` on the head would let a second
 *   gateway skip the held head and send the lane's next entry: out of order.
 *   Holding the lane needs one lock per lane, which needs no lanes table
 *   (rows to insert, and delete when empty, under races) with an advisory one;
 * - a lease column with an expiry leaves a dead gateway's lane stuck until
 *   the lease runs out, which must outlast the slowest send (the receiver's
 *   timeout), and lets a paused gateway that outlived its lease send at the
 *   same time as its successor. The advisory lock goes with the holder's
 *   session: PostgreSQL lets it go the moment a killed gateway's connection
 *   closes (its transaction rolled back: the head is still there, sent again
 *   with the same delivery id), and no clock is involved. A holder that is
 *   alive but whose connection died mid-send (a network cut) has lost the
 *   lock too and may still be sending when the next deliverer sends the same
 *   head: the receiver drops the copy by its delivery id, and each entry still
 *   first arrives after the lane's earlier ones.
 * The price: a pooled connection is held for the send (at most the tenant's
 * `timeoutMs`), so a gateway holds at most a quarter of its pool this way
 * (`storage.postgres.poolSize`; a turn past that answers `busy`, tried again
 * at the next look): slow receivers cannot take the connections the calls'
 * stores need. A look lists only the lanes whose head is due, so a lane
 * backing off costs no transaction each heartbeat. Two lanes whose hashes
 * collide only take turns. Each `add` of this gateway to a lane waits for its
 * previous one (a pool runs queries on several connections), so the ids, the
 * order of sending, follow the order this gateway raised its events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../observability/index.js';
import { KeyedQueue, transientPgError, type PgPool } from '../../storage/postgres/index.js';
import {
  entryFromRow,
  laneKey,
  type LaneTurn,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxLane,
  type OutboxRow,
  type SendOutcome,
  type WebhookOutbox,
} from '../outbox.js';

/** The first key of the lanes' advisory locks ("vmwh"): apart from other users of two-key locks. */
const LANE_LOCK_CLASS = 0x766d7768;
/** Waits before each new try of an insert that failed (then the last, until it lands or the gateway stops). */
const ADD_RETRY_MS = [250, 1000, 4000];

export class PgWebhookOutbox implements WebhookOutbox {
  readonly shared = true;
  readonly #pool: PgPool;
  readonly #log: Logger;
  readonly #adds = new KeyedQueue();
  /** How many turns may hold a connection at once. */
  readonly #maxTurns: number;
  #turns = 0;
  #closed = false;

  constructor(pool: PgPool, logger: Logger) {
    this.#pool = pool;
    this.#maxTurns = Math.max(1, Math.floor((pool.options.max ?? 10) / 4));
    this.#log = logger.child({ module: 'voicemail-outbox' });
  }

  add(e: NewOutboxEntry): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#adds.run(laneKey(e), async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          // A try whose insert committed but whose reply was lost finds its row: done.
          await this.#pool.query(
            `INSERT INTO vm_webhook_outbox (tenant, url, delivery, body, next_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (delivery) DO NOTHING`,
            [e.tenant, e.url, e.delivery, e.body, e.at],
          );
          return;
        } catch (err) {
          // Only what can go away is tried again (the lane's later events wait behind it:
          // their order is kept); anything else would fail for ever and hold the lane.
          if (this.#closed || !transientPgError(err)) throw err;
          this.#log.warn(
            { err, delivery: e.delivery, attempt },
            'outbox insert failed: tried again',
          );
          await sleep(ADD_RETRY_MS[Math.min(attempt, ADD_RETRY_MS.length - 1)]);
        }
      }
    });
  }

  async lanes(now: number): Promise<OutboxLane[]> {
    const { rows } = await this.#pool.query<OutboxLane>(
      `SELECT tenant, url FROM (
         SELECT DISTINCT ON (tenant, url) tenant, url, next_at FROM vm_webhook_outbox
         ORDER BY tenant, url, id
       ) AS head WHERE next_at <= $1`,
      [now],
    );
    return rows;
  }

  async pending(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM vm_webhook_outbox',
    );
    return rows[0]?.n ?? 0;
  }

  async turn(
    lane: OutboxLane,
    now: number,
    send: (head: OutboxEntry) => Promise<SendOutcome>,
  ): Promise<LaneTurn> {
    if (this.#turns >= this.#maxTurns) return { kind: 'busy' };
    this.#turns += 1;
    try {
      return await this.#turn(lane, now, send);
    } finally {
      this.#turns -= 1;
    }
  }

  async #turn(
    lane: OutboxLane,
    now: number,
    send: (head: OutboxEntry) => Promise<SendOutcome>,
  ): Promise<LaneTurn> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // Held for a send: a connection the server ends meanwhile must not crash the process
    // (the pool listens only to idle ones); the query in flight fails and says so.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const held = await client.query<{ held: boolean }>(
          `SELECT pg_try_advisory_xact_lock($1, hashtext($2 || E'\\n' || $3)) AS held`,
          [LANE_LOCK_CLASS, lane.tenant, lane.url],
        );
        if (held.rows[0]?.held !== true)
          return await this.#end(client, 'ROLLBACK', { kind: 'busy' });
        const { rows } = await client.query<OutboxRow>(
          `SELECT id, tenant, url, body, attempts, next_at, delivery FROM vm_webhook_outbox
           WHERE tenant = $1 AND url = $2 ORDER BY id LIMIT 1`,
          [lane.tenant, lane.url],
        );
        const row = rows[0];
        if (!row) return await this.#end(client, 'COMMIT', { kind: 'empty' });
        if (row.next_at > now)
          return await this.#end(client, 'COMMIT', { kind: 'wait', at: row.next_at });
        const outcome = await send(entryFromRow(row));
        if (outcome?.sent === true)
          await client.query('DELETE FROM vm_webhook_outbox WHERE id = $1', [row.id]);
        else if (outcome)
          await client.query(
            `UPDATE vm_webhook_outbox SET attempts = attempts + 1, next_at = $2, last_error = $3
             WHERE id = $1`,
            [row.id, outcome.retryAt, outcome.error],
          );
        return await this.#end(client, 'COMMIT', { kind: 'sent' });
      } catch (error) {
        await client.query('ROLLBACK').catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
        throw error;
      }
    } finally {
      // A connection that broke, or could not even roll back, is not given to the next user
      // (and keeps the listener: it may say more while it is torn down).
      if (!broken) client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#adds.idle();
  }

  async #end(
    client: { query(sql: string): Promise<unknown> },
    how: 'COMMIT' | 'ROLLBACK',
    turn: LaneTurn,
  ): Promise<LaneTurn> {
    await client.query(how);
    return turn;
  }
}
