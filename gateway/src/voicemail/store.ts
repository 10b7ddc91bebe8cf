/**
 * Voicemails as records: one row per message (its caller's context, status,
 * transcript, who took the call), in the voicemail module's own tables
 * (`vm_`, ordered migrations counted in `module_migrations`; in PostgreSQL,
 * `postgres/pg-schema.ts`). The audio is a WAV file beside the other
 * recordings of the gateway that recorded it: the row holds its path and
 * that gateway (`gateway`, `shared.instanceId`), which alone deletes the file.
 * Two stores keep the same contract: `sqlite-store.ts` (one gateway) and
 * `postgres/pg-store.ts` (`storage.kind: postgres`, every gateway's).
 */
import type { VoicemailCause, VoicemailStatus, VoicemailUtterance } from '@parley/shared/protocol';
import type { SchemaModule } from '../storage/index.js';

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
    // The gateway holding the WAV (issue 16): it alone deletes the file, then the row;
    // a delete asked on another gateway marks the row (deleted_at) for it.
    `
    ALTER TABLE vm_voicemails ADD COLUMN gateway TEXT NOT NULL DEFAULT '';
    ALTER TABLE vm_voicemails ADD COLUMN deleted_at INTEGER;
    CREATE INDEX vm_voicemails_gateway ON vm_voicemails(gateway, created_at);
    `,
    // The delivery's id (`X-Parley-Delivery`, outbox.ts): a UUID, unique whichever gateway or
    // database raised it (the row id repeats across gateways); older rows send their row id.
    `
    ALTER TABLE vm_webhook_outbox ADD COLUMN delivery TEXT;
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
  /** The gateway that recorded it (`shared.instanceId`): its WAV is on that gateway's disk. */
  readonly gateway: string;
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
  | 'gateway'
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

/** What {@link VoicemailStore.markHeard} found. */
export type MarkHeard = 'marked' | 'recording' | 'missing';

/**
 * Storage of voicemails: `SqliteVoicemailStore` (one gateway) and
 * `PgVoicemailStore` (`storage.kind: postgres`, shared by the cluster), the
 * same cases run on both (`postgres/stores.postgres.test.ts`). Writes to one
 * voicemail land in the order they were asked; a read sees the writes asked
 * before it. A row marked for deletion (`requestDelete`) is no longer read,
 * listed or marked; its gateway's `expired` gives it, to delete its file then
 * the row.
 */
export interface VoicemailStore {
  /** This gateway (`shared.instanceId`): the rows it inserts hold its WAVs. */
  readonly gateway: string;
  insert(record: NewVoicemail): Promise<void>;
  /** Appends one final utterance (the transcript so far is kept even if the gateway stops). */
  addUtterance(id: string, utterance: VoicemailUtterance): Promise<void>;
  /** The recogniser failed: the recording stays, the record says why. */
  transcriptFailed(id: string, error: string): Promise<void>;
  /**
   * Ends a message being recorded: true when this call ended it, false when
   * it was ended already (a second end changes nothing) or is not stored.
   */
  finish(id: string, end: VoicemailEnd): Promise<boolean>;
  get(id: string): Promise<VoicemailRecord | undefined>;
  list(filter: VoicemailFilter): Promise<VoicemailRecord[]>;
  /**
   * The rows gateway `owner` left `recording` (`interrupted.ts` ends them:
   * this gateway's own at start, a lost gateway's from the cluster's sweeper).
   * In SQLite every row is this gateway's, whatever `owner` says.
   */
  open(owner: string): Promise<VoicemailRecord[]>;
  /** The gateways with rows still `recording` (the lost-gateway sweeper's candidates). */
  openOwners(): Promise<string[]>;
  /**
   * The ended voicemails created before `before` (epoch ms), and those marked
   * for deletion, oldest first: retention's. This gateway's (whose files are
   * here), and those of `retired`: gateways whose lease lapsed, whose rows no
   * one else would sweep. In SQLite every row is this gateway's.
   */
  expired(before: number, limit: number, retired?: readonly string[]): Promise<VoicemailRecord[]>;
  /** The gateways holding rows other than this one (retention asks which of them are retired). */
  otherGateways(): Promise<string[]>;
  /** Deletes the row (the transcript with it); false when it was gone already. */
  delete(id: string): Promise<boolean>;
  /**
   * Marks an ended row for deletion by the gateway holding its WAV (a delete
   * asked on another gateway): false when there is no such ended row.
   */
  requestDelete(id: string, at: number): Promise<boolean>;
  /**
   * Marks an ended voicemail heard. The first time and who are kept (marking
   * twice changes nothing); `recording` while it is recorded, `missing` when gone.
   */
  markHeard(id: string, at: number, by: string | null): Promise<MarkHeard>;
}

/** A row of `vm_voicemails`, the same in SQLite and PostgreSQL. */
export interface VoicemailRow {
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
  gateway: string;
}

export function voicemailFromRow(row: VoicemailRow): VoicemailRecord {
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
    gateway: row.gateway,
  };
}

/** The columns `insert` writes, in order, with their values (both stores). */
export function insertValues(r: NewVoicemail, gateway: string): unknown[] {
  return [
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
    gateway,
  ];
}

export const INSERT_COLUMNS = `id, call_id, tenant, queue, agent, cause, session_number, session_id,
  origin, page, public_claims, private_claims, recording_path, created_at, gateway`;

/** The row `insert` writes, as a record (the `voicemail-started` frame needs no read). */
export function insertedRecord(r: NewVoicemail, gateway: string): VoicemailRecord {
  return {
    ...r,
    status: 'recording',
    endedAt: null,
    durationMs: 0,
    endReason: null,
    utterances: [],
    transcript: null,
    transcriptError: null,
    takenBy: null,
    takenAt: null,
    heardAt: null,
    heardBy: null,
    gateway,
  };
}
