/**
 * Voicemail rows in the gateway's SQLite file (the default, one gateway): the
 * store's contract in `store.ts`. Every row's WAV is on this gateway's disk,
 * whatever instance id it was recorded under (rows from before the `gateway`
 * column, a renamed instance): the rows read say `gateway` is this one.
 */
import type { VoicemailUtterance } from '@parley/shared/protocol';
import type { SqliteDatabase } from '../storage/index.js';
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
} from './store.js';

export class SqliteVoicemailStore implements VoicemailStore {
  readonly gateway: string;
  readonly #db: SqliteDatabase;

  /** `gateway`: this gateway's `shared.instanceId` (its rows' WAVs are on its disk). */
  constructor(db: SqliteDatabase, gateway = '') {
    this.#db = db;
    this.gateway = gateway;
  }

  async insert(r: NewVoicemail): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO vm_voicemails (${INSERT_COLUMNS}, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recording')`,
      )
      .run(...insertValues(r, this.gateway));
  }

  async addUtterance(id: string, utterance: VoicemailUtterance): Promise<void> {
    // One statement: read-modify-write inside SQLite, so two finals never lose one another.
    this.#db
      .prepare(
        `UPDATE vm_voicemails SET
           utterances = json_insert(utterances, '$[#]', json(?)),
           transcript = trim(coalesce(transcript, '') || ' ' || ?)
         WHERE id = ?`,
      )
      .run(JSON.stringify(utterance), utterance.text, id);
  }

  async transcriptFailed(id: string, error: string): Promise<void> {
    this.#db.prepare('UPDATE vm_voicemails SET transcript_error = ? WHERE id = ?').run(error, id);
  }

  async finish(id: string, end: VoicemailEnd): Promise<boolean> {
    const ended = this.#db
      .prepare(
        `UPDATE vm_voicemails SET status = ?, ended_at = ?, duration_ms = ?, end_reason = ?,
           taken_by = ?, taken_at = ?
         WHERE id = ? AND status = 'recording'`,
      )
      .run(
        end.status,
        end.endedAt,
        Math.round(end.durationMs),
        end.endReason,
        end.takenBy ?? null,
        end.takenAt ?? null,
        id,
      );
    return ended.changes > 0;
  }

  async get(id: string): Promise<VoicemailRecord | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM vm_voicemails WHERE id = ? AND deleted_at IS NULL')
      .get(id) as VoicemailRow | undefined;
    return row ? this.#record(row) : undefined;
  }

  async list(filter: VoicemailFilter): Promise<VoicemailRecord[]> {
    const where = ['deleted_at IS NULL'];
    const params: unknown[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.queue !== undefined) {
      where.push('queue = ?');
      params.push(filter.queue);
    }
    if (filter.agent !== undefined) {
      where.push('agent = ?');
      params.push(filter.agent);
    }
    if (filter.heard !== undefined)
      where.push(filter.heard ? 'heard_at IS NOT NULL' : 'heard_at IS NULL');
    const sql = `SELECT * FROM vm_voicemails WHERE ${where.join(' AND ')}
      ORDER BY created_at DESC, id LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...params, filter.limit) as VoicemailRow[];
    return rows.map((row) => this.#record(row));
  }

  async expired(
    before: number,
    limit: number,
    _retired?: readonly string[],
  ): Promise<VoicemailRecord[]> {
    const rows = this.#db
      .prepare(
        `SELECT * FROM vm_voicemails
         WHERE status != 'recording' AND (created_at < ? OR deleted_at IS NOT NULL)
         ORDER BY created_at LIMIT ?`,
      )
      .all(before, limit) as VoicemailRow[];
    return rows.map((row) => this.#record(row));
  }

  async delete(id: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM vm_voicemails WHERE id = ?').run(id).changes > 0;
  }

  async requestDelete(id: string, at: number): Promise<boolean> {
    const marked = this.#db
      .prepare(
        `UPDATE vm_voicemails SET deleted_at = ?
         WHERE id = ? AND status != 'recording' AND deleted_at IS NULL`,
      )
      .run(at, id);
    return marked.changes > 0;
  }

  async markHeard(id: string, at: number, by: string | null): Promise<MarkHeard> {
    const row = this.#db
      .prepare('SELECT status FROM vm_voicemails WHERE id = ? AND deleted_at IS NULL')
      .get(id) as { status: string } | undefined;
    if (!row) return 'missing';
    if (row.status === 'recording') return 'recording';
    this.#db
      .prepare(
        'UPDATE vm_voicemails SET heard_at = ?, heard_by = ? WHERE id = ? AND heard_at IS NULL',
      )
      .run(at, by, id);
    return 'marked';
  }

  async otherGateways(): Promise<string[]> {
    return [];
  }

  async open(_owner: string): Promise<VoicemailRecord[]> {
    const rows = this.#db
      .prepare(`SELECT * FROM vm_voicemails WHERE status = 'recording' ORDER BY created_at`)
      .all() as VoicemailRow[];
    return rows.map((row) => this.#record(row));
  }

  async openOwners(): Promise<string[]> {
    const row = this.#db
      .prepare(`SELECT 1 FROM vm_voicemails WHERE status = 'recording' LIMIT 1`)
      .get();
    return row ? [this.gateway] : [];
  }

  #record(row: VoicemailRow): VoicemailRecord {
    return { ...voicemailFromRow(row), gateway: this.gateway };
  }
}
