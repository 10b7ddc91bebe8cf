/**
 * A call's flow events in PostgreSQL (`storage.kind: postgres`): one table
 * for the cluster, so the gateway that answers `GET /v1/calls/<id>` reads
 * the events of a flow another gateway ran.
 *
 * `event` is the runner's sink and must not wait: it hands the event to a
 * queue per call (`KeyedQueue`: a pool runs queries on several connections,
 * so two inserts of one call could otherwise commit out of order) and
 * returns. The events of a call that arrive while its previous insert is in
 * flight go together in the next one (one statement, `unnest` of arrays), so
 * a flow's burst of events (a verb's result, the next verb's start) costs one
 * round trip, not one each. `(call_id, seq)` is the key with `ON CONFLICT DO
 * NOTHING`: an insert tried again after its commit's reply was lost, or an
 * event handed over twice, is stored once. A transient failure (the
 * connection, the server restarting: `transientPgError`) is tried again
 * after each of {@link RETRY_MS}; what still fails is logged and the call
 * goes on.
 *
 * With a `journal` (the gateway's: `wiring/stores.ts`) each event is first
 * written to this gateway's SQLite file, synchronously, and deleted from it
 * once its insert commits: what a kill or a long outage kept from
 * PostgreSQL is moved there at the next start (`flow-event-journal.ts`).
 * Without one, what failed is lost: the call's record holds fewer events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlowEvent } from '@parley/shared/protocol';
import type { Logger } from '../../observability/index.js';
import { KeyedQueue, transientPgError, type PgPool } from '../../storage/postgres/index.js';
import { storedFlowEvent, type FlowEventStore } from '../flow-event-store.js';
import type { FlowEventJournal } from './flow-event-journal.js';

/** Waits before each new try of an insert that failed transiently (about 5 s in all). */
export const RETRY_MS: readonly number[] = [250, 1000, 4000];

const INSERT = `INSERT INTO flow_events (call_id, seq, at, type, flow, verb, body)
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
  ON CONFLICT (call_id, seq) DO NOTHING`;

/** One statement for the batch; an event PostgreSQL already has is kept once. */
export async function insertFlowEvents(pool: PgPool, batch: readonly FlowEvent[]): Promise<void> {
  await pool.query(INSERT, [
    batch.map((e) => e.callId),
    batch.map((e) => e.seq),
    batch.map((e) => Date.parse(e.at)),
    batch.map((e) => e.type),
    batch.map((e) => e.flow),
    batch.map((e) => ('verb' in e ? e.verb : null)),
    batch.map((e) => JSON.stringify(e)),
  ]);
}

export class PgFlowEventStore implements FlowEventStore {
  readonly #pool: PgPool;
  readonly #log: Logger;
  readonly #retryMs: readonly number[];
  readonly #journal: FlowEventJournal | undefined;
  readonly #queue = new KeyedQueue();
  /** callId → the events waiting for the call's next insert (queued, not started). */
  readonly #next = new Map<string, FlowEvent[]>();

  constructor(
    pool: PgPool,
    logger: Logger,
    options: { retryMs?: readonly number[]; journal?: FlowEventJournal } = {},
  ) {
    this.#pool = pool;
    this.#log = logger.child({ module: 'flow-events' });
    this.#retryMs = options.retryMs ?? RETRY_MS;
    this.#journal = options.journal;
  }

  event(event: FlowEvent): void {
    if (!storedFlowEvent(event)) return;
    try {
      this.#journal?.write(event);
    } catch (err) {
      // The SQLite file full or gone: PostgreSQL may still take it; the runner never sees a throw.
      this.#log.error({ err, callId: event.callId, seq: event.seq }, 'flow event not journalled');
    }
    const { callId } = event;
    const waiting = this.#next.get(callId);
    if (waiting) {
      waiting.push(event);
      return;
    }
    const batch = [event];
    this.#next.set(callId, batch);
    this.#queue
      .run(callId, () => {
        // Its turn: what arrives from now on goes in the call's next insert.
        this.#next.delete(callId);
        return this.#insert(batch);
      })
      .then(
        () => this.#forget(batch),
        (err: unknown) =>
          this.#log.error(
            { err, callId, events: batch.length, seq: batch.map((e) => e.seq) },
            this.#journal
              ? 'flow events not in PostgreSQL: kept in the journal for the next start'
              : 'flow events not stored',
          ),
      );
  }

  async list(callId: string): Promise<FlowEvent[]> {
    // This gateway reads its own writes: the call's queued inserts land first.
    await this.#queue.after(callId);
    const { rows } = await this.#pool.query<{ body: string }>(
      'SELECT body FROM flow_events WHERE call_id = $1 ORDER BY seq',
      [callId],
    );
    return rows.map((row) => JSON.parse(row.body) as FlowEvent);
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  #forget(batch: readonly FlowEvent[]): void {
    try {
      this.#journal?.forget(batch);
    } catch (err) {
      // PostgreSQL has them: moved again at the next start, kept once there.
      this.#log.warn({ err, callId: batch[0]?.callId }, 'flow events not deleted from the journal');
    }
  }

  async #insert(batch: readonly FlowEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await insertFlowEvents(this.#pool, batch);
        return;
      } catch (err) {
        const wait = this.#retryMs[attempt];
        // A pool being closed will not come back: the gateway is stopping.
        if (wait === undefined || this.#pool.ending || !transientPgError(err)) throw err;
        this.#log.warn(
          { err, callId: batch[0]?.callId, attempt },
          'flow events insert failed: tried again',
        );
        await sleep(wait);
      }
    }
  }
}
