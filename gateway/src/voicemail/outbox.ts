/**
 * The voicemail webhook outbox (`webhooks.ts` sends from it): events wait
 * here until the company's server took them. Two implementations keep the
 * same contract (`outbox-contract.ts`): `SqliteWebhookOutbox` (one gateway's
 * file, the embedded default) and `PgWebhookOutbox` (`storage.kind:
 * postgres`: one outbox for the cluster, so a dead gateway's events are sent
 * by any live one).
 *
 * A lane is one receiver (tenant and URL). Its entries are sent oldest first,
 * one at a time, by one deliverer at a time: a {@link WebhookOutbox.turn}
 * holds the lane from reading its head until the head is deleted (sent) or
 * its retry is written (failed), so a second deliverer (another gateway)
 * gets `busy` and does not send the same head at once, nor the next one
 * before it (on PostgreSQL, unless the holder's connection died mid-send: see
 * `postgres/pg-outbox.ts`). At least once: a deliverer that dies between the send and the delete
 * leaves the head, which is sent again with the same `delivery` id.
 */

/** One receiver of a tenant's events. */
export interface OutboxLane {
  readonly tenant: string;
  readonly url: string;
}

export interface NewOutboxEntry extends OutboxLane {
  /** The delivery's id (`X-Parley-Delivery`): unique, the same on every retry, so the receiver drops duplicates. */
  readonly delivery: string;
  readonly body: string;
  /** When it was raised (epoch ms): due at once. */
  readonly at: number;
}

export interface OutboxEntry extends OutboxLane {
  /** Its place in the outbox: a lane is sent in this order. */
  readonly id: number;
  readonly delivery: string;
  readonly body: string;
  /** Failed sends so far. */
  readonly attempts: number;
  /** Not sent before this (epoch ms). */
  readonly nextAt: number;
}

/** What a send made of the head: taken (deleted), failed (tried again at `retryAt`), or `undefined`: left as it was (the gateway is stopping). */
export type SendOutcome =
  | { readonly sent: true }
  | { readonly sent: false; readonly error: string; readonly retryAt: number }
  | undefined;

/**
 * A turn of a lane: `sent` (the head was sent or failed: take the next turn),
 * `empty`, `busy` (another deliverer holds the lane now), or `wait` (the head
 * is due at `at`, epoch ms).
 */
export type LaneTurn =
  | { readonly kind: 'sent' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'wait'; readonly at: number };

export interface WebhookOutbox {
  /** Whether other gateways deliver from it too (then `webhooks.ts` looks at every lane now and then). */
  readonly shared: boolean;
  /** Appends an entry. The entries one outbox object adds to a lane land in the order of the calls. */
  add(entry: NewOutboxEntry): Promise<void>;
  /**
   * The lanes holding entries. A shared outbox may leave out those whose head is not due at
   * `now` (it is looked at again each `scanMs`); this gateway's own lists them all.
   */
  lanes(now: number): Promise<OutboxLane[]>;
  /** Entries waiting, every lane's. */
  pending(): Promise<number>;
  /**
   * Holds `lane` (or answers `busy`: another deliverer holds it, or a shared outbox holds
   * as many lanes as it may at once), reads its head and, when it is due at
   * `now`, runs `send` on it and writes its outcome before letting the lane go.
   */
  turn(
    lane: OutboxLane,
    now: number,
    send: (head: OutboxEntry) => Promise<SendOutcome>,
  ): Promise<LaneTurn>;
  /** Resolves once every entry added so far landed (before the database closes); later adds are refused. */
  close(): Promise<void>;
}

/** A row of `vm_webhook_outbox`, the same in SQLite and PostgreSQL. */
export interface OutboxRow {
  id: number;
  tenant: string;
  url: string;
  body: string;
  attempts: number;
  next_at: number;
  /** Null in SQLite rows written before the column (their row id is their delivery id). */
  delivery: string | null;
}

export function entryFromRow(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    tenant: row.tenant,
    url: row.url,
    body: row.body,
    attempts: row.attempts,
    nextAt: row.next_at,
    delivery: row.delivery ?? String(row.id),
  };
}

/** A lane as a map key. */
export const laneKey = (lane: OutboxLane): string => `${lane.tenant}\n${lane.url}`;
