/**
 * Voicemail rows in PostgreSQL (`storage.kind: postgres`): every gateway
 * lists, reads and marks every voicemail; each WAV stays on the disk of the
 * gateway that recorded it (`gateway`), which alone closes its interrupted
 * rows and deletes files then rows (`expired`); a retired gateway's rows are
 * swept by another, whose delete leaves a tombstone for the file
 * (`pg-tombstones.ts`). The contract is `../store.ts`'s,
 * run on both stores by `stores.postgres.test.ts`. Writes to one voicemail
 * are queued in order (`KeyedQueue`: a final never lands before its insert).
 */
import type { VoicemailUtterance } from '@parley/shared/protocol';
import { KeyedQueue, type PgPool } from '../../storage/postgres/index.js';
import {
  INSERT_COLUMNS,
  insertValues,
  voicemailFromRow,
  type MarkHeard,
  type NewVoicemail,
  type VoicemailEnd,
  type VoicemailFilter,
  type VoicemailRecord,
  type VoicemailRow,
  type VoicemailStore,
} from '../store.js';

const INSERT = `INSERT INTO vm_voicemails (${INSERT_COLUMNS}, status)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'recording')`;

export class PgVoicemailStore implements VoicemailStore {
  readonly gateway: string;
  readonly #pool: PgPool;
  readonly #queue = new KeyedQueue();

  /** `gateway`: this gateway's `shared.instanceId`. */
  constructor(pool: PgPool, gateway: string) {
    this.#pool = pool;
    this.gateway = gateway;
  }

  insert(r: NewVoicemail): Promise<void> {
    const values = insertValues(r, this.gateway);
    return this.#write(r.id, INSERT, values);
  }

  addUtterance(id: string, utterance: VoicemailUtterance): Promise<void> {
    // One statement: the array grows under the row's lock, so two finals never lose one another.
    return this.#write(
      id,
      `UPDATE vm_voicemails SET
         utterances = (utterances::jsonb || jsonb_build_array($2::jsonb))::text,
         transcript = trim(coalesce(transcript, '') || ' ' || $3)
       WHERE id = $1`,
      [id, JSON.stringify(utterance), utterance.text],
    );
  }

  transcriptFailed(id: string, error: string): Promise<void> {
    return this.#write(id, 'UPDATE vm_voicemails SET transcript_error = $2 WHERE id = $1', [
      id,
      error,
    ]);
  }

  finish(id: string, end: VoicemailEnd): Promise<boolean> {
    return this.#change(
      id,
      `UPDATE vm_voicemails SET status = $2, ended_at = $3, duration_ms = $4, end_reason = $5,
         taken_by = $6, taken_at = $7
       WHERE id = $1 AND status = 'recording'`,
      [
        id,
        end.status,
        end.endedAt,
        Math.round(end.durationMs),
        end.endReason,
        end.takenBy ?? null,
        end.takenAt ?? null,
      ],
    );
  }

  async get(id: string): Promise<VoicemailRecord | undefined> {
    await this.#queue.after(id);
    const { rows } = await this.#pool.query<VoicemailRow>(
      'SELECT * FROM vm_voicemails WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    return rows[0] ? voicemailFromRow(rows[0]) : undefined;
  }

  async list(filter: VoicemailFilter): Promise<VoicemailRecord[]> {
    const where = ['deleted_at IS NULL'];
    const params: unknown[] = [];
    const add = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    add('tenant', filter.tenant);
    add('queue', filter.queue);
    add('agent', filter.agent);
    if (filter.heard !== undefined)
      where.push(filter.heard ? 'heard_at IS NOT NULL' : 'heard_at IS NULL');
    params.push(filter.limit);
    const { rows } = await this.#pool.query<VoicemailRow>(
      `SELECT * FROM vm_voicemails WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(voicemailFromRow);
  }

  async open(owner: string): Promise<VoicemailRecord[]> {
    const { rows } = await this.#pool.query<VoicemailRow>(
      `SELECT * FROM vm_voicemails WHERE gateway = $1 AND status = 'recording'
       ORDER BY created_at`,
      [owner],
    );
    return rows.map(voicemailFromRow);
  }

  async openOwners(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ gateway: string }>(
      `SELECT DISTINCT gateway FROM vm_voicemails WHERE status = 'recording'`,
    );
    return rows.map((row) => row.gateway);
  }

  async expired(
    before: number,
    limit: number,
    retired: readonly string[] = [],
  ): Promise<VoicemailRecord[]> {
    const { rows } = await this.#pool.query<VoicemailRow>(
      `SELECT * FROM vm_voicemails
       WHERE gateway = ANY($1) AND status <> 'recording'
         AND (created_at < $2 OR deleted_at IS NOT NULL)
       ORDER BY created_at LIMIT $3`,
      [[this.gateway, ...retired], before, limit],
    );
    return rows.map(voicemailFromRow);
  }

  async otherGateways(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ gateway: string }>(
      'SELECT DISTINCT gateway FROM vm_voicemails WHERE gateway <> $1',
      [this.gateway],
    );
    return rows.map((row) => row.gateway);
  }

  /**
   * Deletes the row; the row of another gateway's WAV (a retired gateway's,
   * swept here) leaves a tombstone naming that gateway and the file's path,
   * in the same statement, so in the same transaction: the row never goes
   * without its tombstone (`pg-tombstones.ts`: that gateway removes the file
   * when it comes back).
   */
  async delete(id: string): Promise<boolean> {
    await this.#queue.after(id);
    const { rows } = await this.#pool.query<{ deleted: number }>(
      `WITH gone AS (
         DELETE FROM vm_voicemails WHERE id = $1 RETURNING id, gateway, recording_path),
       tombstone AS (
         INSERT INTO vm_tombstones (id, gateway, recording_path, deleted_at)
         SELECT id, gateway, recording_path, $3 FROM gone
         WHERE gateway <> $2 AND recording_path IS NOT NULL
         ON CONFLICT (id) DO NOTHING)
       SELECT count(*)::int AS deleted FROM gone`,
      [id, this.gateway, Date.now()],
    );
    return (rows[0]?.deleted ?? 0) > 0;
  }

  async requestDelete(id: string, at: number): Promise<boolean> {
    await this.#queue.after(id);
    const { rowCount } = await this.#pool.query(
      `UPDATE vm_voicemails SET deleted_at = $2
       WHERE id = $1 AND status <> 'recording' AND deleted_at IS NULL`,
      [id, at],
    );
    return (rowCount ?? 0) > 0;
  }

  async markHeard(id: string, at: number, by: string | null): Promise<MarkHeard> {
    await this.#queue.after(id);
    // One statement: the first mark wins, whichever gateway it came through.
    const { rows } = await this.#pool.query<{ status: string }>(
      `WITH marked AS (
         UPDATE vm_voicemails SET heard_at = $2, heard_by = $3
         WHERE id = $1 AND heard_at IS NULL AND status <> 'recording' AND deleted_at IS NULL
         RETURNING status)
       SELECT status FROM marked
       UNION ALL
       SELECT status FROM vm_voicemails
       WHERE id = $1 AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM marked)`,
      [id, at, by],
    );
    const status = rows[0]?.status;
    return status === undefined ? 'missing' : status === 'recording' ? 'recording' : 'marked';
  }

  /** Resolves once every write queued so far landed (before the pool closes). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  #write(id: string, sql: string, values: unknown[]): Promise<void> {
    return this.#queue.run(id, async () => void (await this.#pool.query(sql, values)));
  }

  /** A queued write that says whether it changed a row (the row's lock: one of two racing ends wins). */
  #change(id: string, sql: string, values: unknown[]): Promise<boolean> {
    return this.#queue.run(
      id,
      async () => ((await this.#pool.query(sql, values)).rowCount ?? 0) > 0,
    );
  }
}
