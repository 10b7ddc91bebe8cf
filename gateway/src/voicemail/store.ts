/**
 * Voicemails as records: one row per message (its caller's context, status,
 * transcript, who took the call), in the voicemail module's own tables
 * (`vm_`, ordered migrations counted in `module_migrations`). The audio is a
 * WAV file beside the other recordings; the row holds its path.
 */
import type { VoicemailCause, VoicemailStatus, VoicemailUtterance } from '@parley/shared/protocol';
import type { SchemaModule, SqliteDatabase } from '../storage/index.js';

/** Never edit a released migration; add the next. */
export const VOICEMAIL_SCHEMA: SchemaModule = {
  name: 'voicemail',
  migrations: [
    `
    CREATE TABLE vm_voicemails (
      id TEXT PRIMARY KEY,
      call_id TEXT NOT NULL,
      tenant TEXT NOT NULL,
      queue TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('recording', 'left', 'taken', 'abandoned', 'failed')),
      session_number TEXT NOT NULL,
      session_id TEXT NOT NULL,
      origin TEXT NOT NULL,
      page TEXT,
      public_claims TEXT NOT NULL,
      private_claims TEXT NOT NULL,
      recording_path TEXT,
      created_at INTEGER NOT NULL,
      ended_at INTEGER,
      duration_ms INTEGER NOT NULL DEFAULT 0,
      end_reason TEXT,
      utterances TEXT NOT NULL DEFAULT '[]',
      transcript TEXT,
      transcript_error TEXT,
      taken_by TEXT,
      taken_at INTEGER
    );
    CREATE INDEX vm_voicemails_tenant ON vm_voicemails(tenant, created_at);
    CREATE INDEX vm_voicemails_call ON vm_voicemails(call_id);
    `,
    // Per-agent boxes and why voicemail answered (issue 11, item 4).
    `
    ALTER TABLE vm_voicemails ADD COLUMN agent TEXT;
    ALTER TABLE vm_voicemails ADD COLUMN cause TEXT NOT NULL DEFAULT 'no-answer';
    `,
    // The webhook outbox (webhooks.ts): events wait here until the company's server took them.
    `
    CREATE TABLE vm_webhook_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      tenant TEXT NOT NULL,
      url TEXT NOT NULL,
      body TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL,
      last_error TEXT,
      created_at INTEGER NOT NULL
    );
    `,
    // Heard / not heard (issue 11, item 4): set once, by the desk or the API.
    `
    ALTER TABLE vm_voicemails ADD COLUMN heard_at INTEGER;
    ALTER TABLE vm_voicemails ADD COLUMN heard_by TEXT;
    CREATE INDEX vm_voicemails_tenant_heard ON vm_voicemails(tenant, heard_at);
    `,
    // The webhook outbox is read per receiver (a lane per tenant and URL, webhooks.ts).
    `
    CREATE INDEX vm_webhook_outbox_lane ON vm_webhook_outbox(tenant, url, id);
    `,
  ],
};

export interface VoicemailRecord {
  readonly id: string;
  readonly callId: string;
  readonly tenant: string;
  readonly queue: string;
  /** The agent whose own box it is, or null for a queue's box. */
  readonly agent: string | null;
  readonly cause: VoicemailCause;
  readonly status: VoicemailStatus;
  readonly sessionNumber: string;
  readonly sessionId: string;
  readonly origin: string;
  readonly page: string | null;
  readonly publicClaims: Readonly<Record<string, unknown>>;
  readonly privateClaims: Readonly<Record<string, unknown>>;
  readonly recordingPath: string | null;
  readonly createdAt: number;
  readonly endedAt: number | null;
  readonly durationMs: number;
  readonly endReason: string | null;
  readonly utterances: readonly VoicemailUtterance[];
  readonly transcript: string | null;
  readonly transcriptError: string | null;
  readonly takenBy: string | null;
  readonly takenAt: number | null;
  /** When someone first marked it heard (epoch ms), or null. */
  readonly heardAt: number | null;
  /** Who marked it heard: an agent's id (the desk), or what the API said (`agentId`), or null. */
  readonly heardBy: string | null;
}

export type NewVoicemail = Omit<
  VoicemailRecord,
  | 'status'
  | 'endedAt'
  | 'durationMs'
  | 'endReason'
  | 'utterances'
  | 'transcript'
  | 'transcriptError'
  | 'takenBy'
  | 'takenAt'
  | 'heardAt'
  | 'heardBy'
>;

/** How a message ended. */
export interface VoicemailEnd {
  readonly status: Exclude<VoicemailStatus, 'recording'>;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly endReason: string;
  readonly takenBy?: string | undefined;
  readonly takenAt?: number | undefined;
}

export interface VoicemailFilter {
  readonly tenant?: string | undefined;
  readonly queue?: string | undefined;
  /** An agent's own box. */
  readonly agent?: string | undefined;
  /** true: only heard ones; false: only those nobody marked heard. */
  readonly heard?: boolean | undefined;
  readonly limit: number;
}

/** Storage of voicemails (SQLite now; a PostgreSQL implementation comes later). */
export interface VoicemailStore {
  insert(record: NewVoicemail): void;
  /** Appends one final utterance (the transcript so far is kept even if the gateway stops). */
  addUtterance(id: string, utterance: VoicemailUtterance): void;
  /** The recogniser failed: the recording stays, the record says why. */
  transcriptFailed(id: string, error: string): void;
  finish(id: string, end: VoicemailEnd): void;
  get(id: string): VoicemailRecord | undefined;
  list(filter: VoicemailFilter): VoicemailRecord[];
  /** Rows left `recording` by a crash: closed as `left` (their file is complete up to the last second). */
  closeInterrupted(at: number): number;
  /** Ended voicemails created before `before` (epoch ms), oldest first: retention's. */
  expired(before: number, limit: number): VoicemailRecord[];
  /** Deletes the row (the transcript with it). */
  delete(id: string): void;
  /**
   * Marks an ended voicemail heard: false when there is no such ended one.
   * The first time and who are kept (marking twice changes nothing).
   */
  markHeard(id: string, at: number, by: string | null): boolean;
}

interface Row {
  id: string;
  call_id: string;
  tenant: string;
  queue: string;
  agent: string | null;
  cause: VoicemailCause;
  status: VoicemailStatus;
  session_number: string;
  session_id: string;
  origin: string;
  page: string | null;
  public_claims: string;
  private_claims: string;
  recording_path: string | null;
  created_at: number;
  ended_at: number | null;
  duration_ms: number;
  end_reason: string | null;
  utterances: string;
  transcript: string | null;
  transcript_error: string | null;
  taken_by: string | null;
  taken_at: number | null;
  heard_at: number | null;
  heard_by: string | null;
}

export class SqliteVoicemailStore implements VoicemailStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  insert(r: NewVoicemail): void {
    this.#db
      .prepare(
        `INSERT INTO vm_voicemails (id, call_id, tenant, queue, agent, cause, status, session_number,
           session_id, origin, page, public_claims, private_claims, recording_path, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'recording', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.callId,
        r.tenant,
        r.queue,
        r.agent,
        r.cause,
        r.sessionNumber,
        r.sessionId,
        r.origin,
        r.page,
        JSON.stringify(r.publicClaims),
        JSON.stringify(r.privateClaims),
        r.recordingPath,
        r.createdAt,
      );
  }

  addUtterance(id: string, utterance: VoicemailUtterance): void {
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

  transcriptFailed(id: string, error: string): void {
    this.#db.prepare('UPDATE vm_voicemails SET transcript_error = ? WHERE id = ?').run(error, id);
  }

  finish(id: string, end: VoicemailEnd): void {
    this.#db
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
  }

  get(id: string): VoicemailRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM vm_voicemails WHERE id = ?').get(id) as
      Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(filter: VoicemailFilter): VoicemailRecord[] {
    const where: string[] = [];
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
    const sql = `SELECT * FROM vm_voicemails ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...params, filter.limit) as Row[];
    return rows.map(fromRow);
  }

  expired(before: number, limit: number): VoicemailRecord[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM vm_voicemails WHERE created_at < ? AND status != 'recording'
         ORDER BY created_at LIMIT ?`,
      )
      .all(before, limit) as Row[];
    return rows.map(fromRow);
  }

  delete(id: string): void {
    this.#db.prepare('DELETE FROM vm_voicemails WHERE id = ?').run(id);
  }

  markHeard(id: string, at: number, by: string | null): boolean {
    const record = this.get(id);
    if (!record || record.status === 'recording') return false;
    this.#db
      .prepare(
        `UPDATE vm_voicemails SET heard_at = ?, heard_by = ?
         WHERE id = ? AND heard_at IS NULL AND status != 'recording'`,
      )
      .run(at, by, id);
    return true;
  }

  closeInterrupted(at: number): number {
    return this.#db
      .prepare(
        `UPDATE vm_voicemails SET status = 'left', ended_at = ?, end_reason = 'interrupted'
         WHERE status = 'recording'`,
      )
      .run(at).changes;
  }
}

function fromRow(row: Row): VoicemailRecord {
  return {
    id: row.id,
    callId: row.call_id,
    tenant: row.tenant,
    queue: row.queue,
    agent: row.agent,
    cause: row.cause,
    status: row.status,
    sessionNumber: row.session_number,
    sessionId: row.session_id,
    origin: row.origin,
    page: row.page,
    publicClaims: JSON.parse(row.public_claims) as Record<string, unknown>,
    privateClaims: JSON.parse(row.private_claims) as Record<string, unknown>,
    recordingPath: row.recording_path,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    endReason: row.end_reason,
    utterances: JSON.parse(row.utterances) as VoicemailUtterance[],
    transcript: row.transcript,
    transcriptError: row.transcript_error,
    takenBy: row.taken_by,
    takenAt: row.taken_at,
    heardAt: row.heard_at,
    heardBy: row.heard_by,
  };
}
