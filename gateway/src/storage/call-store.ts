import type { SqliteDatabase } from './database.js';
import type { CallRecord, InterruptedCall, StoredDialog } from './records.js';

/**
 * Where call records live: SQLite (`SqliteCallStore`, one gateway, a file) or
 * PostgreSQL (`PgCallStore`, gateways sharing a database); both pass the same
 * contract (`store-contract.ts`).
 *
 * Writes take the record as it is when called (the caller keeps mutating its
 * live copy) and are applied in call order per record; a read of a record
 * sees every write this process asked for before it. So the call path can
 * write behind (not wait) without a later write overtaking an earlier one.
 */
export interface CallStore {
  insert(record: CallRecord): Promise<void>;
  /** Writes the mutable fields of the record. */
  update(record: CallRecord): Promise<void>;
  get(id: string): Promise<CallRecord | undefined>;
  listBySession(tenant: string, sessionId: string, limit?: number): Promise<CallRecord[]>;
  listRecent(limit: number, filter?: { tenant?: string; agentId?: string }): Promise<CallRecord[]>;
  /** A customer's calls since `sinceMs`, oldest first (for value routing's history). */
  listByCustomer(tenant: string, customerId: string, sinceMs: number): Promise<CallRecord[]>;
  /**
   * Closes the records of calls a stopped gateway left open (routing, ringing or
   * answered): ended by the gateway at `at` with reason `gateway_restart`. Run at
   * start-up, before any call. SQLite: every open call of the file (one gateway
   * owns it); PostgreSQL: the open calls this gateway instance (`shared.instanceId`)
   * started, never another live gateway's.
   * Returns those calls with the dialogs of their answered legs, to be ended.
   */
  closeInterrupted(at: number): Promise<InterruptedCall[]>;
}

/**
 * The call records of a database several gateways share (PostgreSQL): what a
 * surviving gateway needs to close the open calls of one that died
 * (`cluster/lost-gateways.ts`).
 */
export interface SharedCallRecords {
  /** The instances, other than this one, that own calls still open. */
  openOwners(): Promise<string[]>;
  /** Closes `owner`'s open calls with `reason`; each call is returned by one caller only. */
  closeOwned(owner: string, at: number, reason: string): Promise<InterruptedCall[]>;
}

export interface CallRow {
  id: string;
  tenant: string;
  session_id: string;
  session_number: string;
  number_fallback: number;
  customer_id: string | null;
  queue: string | null;
  origin: string;
  visitor_call_id: string;
  visitor_transport: string;
  visitor_source: string;
  channel: string;
  trunk: string | null;
  called: string | null;
  caller_number: string | null;
  flow: string | null;
  agent_call_id: string | null;
  agent_id: string | null;
  state: string;
  outcome: string | null;
  ended_by: string | null;
  sip_status: number | null;
  reason: string | null;
  attempts: string;
  media: string | null;
  routing: string | null;
  dialogs: string;
  created_at: number;
  ringing_at: number | null;
  answered_at: number | null;
  ended_at: number | null;
}

export function callFromRow(row: CallRow): CallRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    sessionId: row.session_id,
    sessionNumber: row.session_number,
    numberFallback: row.number_fallback === 1,
    customerId: row.customer_id,
    queue: row.queue,
    origin: row.origin,
    visitorCallId: row.visitor_call_id,
    visitorTransport: row.visitor_transport,
    visitorSource: row.visitor_source,
    channel: row.channel as CallRecord['channel'],
    trunk: row.trunk,
    called: row.called,
    callerNumber: row.caller_number,
    flow: row.flow,
    agentCallId: row.agent_call_id,
    agentId: row.agent_id,
    state: row.state as CallRecord['state'],
    outcome: row.outcome as CallRecord['outcome'],
    endedBy: row.ended_by as CallRecord['endedBy'],
    sipStatus: row.sip_status,
    reason: row.reason,
    attempts: JSON.parse(row.attempts) as CallRecord['attempts'],
    media: row.media ? (JSON.parse(row.media) as Record<string, unknown>) : null,
    routing: row.routing ? (JSON.parse(row.routing) as Record<string, unknown>) : null,
    dialogs: JSON.parse(row.dialogs) as StoredDialog[],
    createdAt: row.created_at,
    ringingAt: row.ringing_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
  };
}

export function callParams(r: CallRecord) {
  return {
    id: r.id,
    tenant: r.tenant,
    session_id: r.sessionId,
    session_number: r.sessionNumber,
    number_fallback: r.numberFallback ? 1 : 0,
    customer_id: r.customerId,
    queue: r.queue,
    origin: r.origin,
    visitor_call_id: r.visitorCallId,
    visitor_transport: r.visitorTransport,
    visitor_source: r.visitorSource,
    channel: r.channel,
    trunk: r.trunk,
    called: r.called,
    caller_number: r.callerNumber,
    flow: r.flow,
    agent_call_id: r.agentCallId,
    agent_id: r.agentId,
    state: r.state,
    outcome: r.outcome,
    ended_by: r.endedBy,
    sip_status: r.sipStatus,
    reason: r.reason,
    attempts: JSON.stringify(r.attempts),
    media: r.media ? JSON.stringify(r.media) : null,
    routing: r.routing ? JSON.stringify(r.routing) : null,
    dialogs: JSON.stringify(r.dialogs),
    created_at: r.createdAt,
    ringing_at: r.ringingAt,
    answered_at: r.answeredAt,
    ended_at: r.endedAt,
  };
}

/** The columns `update` writes (the rest never change after insert). */
export const MUTABLE_COLUMNS = [
  'agent_call_id',
  'agent_id',
  'state',
  'outcome',
  'ended_by',
  'sip_status',
  'reason',
  'attempts',
  'media',
  'routing',
  'dialogs',
  'flow',
  'ringing_at',
  'answered_at',
  'ended_at',
] as const;

/** The attempts of an interrupted call, each still open ended at `at` (its legs ended with the gateway). */
export function endAttempts(attempts: string, at: number): CallRecord['attempts'] {
  const parsed = JSON.parse(attempts) as CallRecord['attempts'];
  for (const attempt of parsed) attempt.endedAt ??= at;
  return parsed;
}

/** SQLite's statements run at once: each method has done its work when it returns its promise. */
export class SqliteCallStore implements CallStore {
  readonly #insert;
  readonly #update;
  readonly #get;
  readonly #bySession;
  readonly #recent;
  readonly #recentByTenant;
  readonly #recentByAgent;
  readonly #byCustomer;
  readonly #closeInterrupted;
  readonly #open;
  readonly #endAttempts;
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    const columns = Object.keys(callParams({} as CallRecord));
    this.#insert = db.prepare(
      `INSERT INTO calls (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    this.#update = db.prepare(
      `UPDATE calls SET ${MUTABLE_COLUMNS.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
    );
    this.#get = db.prepare<[string], CallRow>('SELECT * FROM calls WHERE id = ?');
    this.#bySession = db.prepare<[string, string, number], CallRow>(
      'SELECT * FROM calls WHERE tenant = ? AND session_id = ? ORDER BY created_at DESC LIMIT ?',
    );
    this.#recent = db.prepare<[number], CallRow>(
      'SELECT * FROM calls ORDER BY created_at DESC LIMIT ?',
    );
    this.#recentByTenant = db.prepare<[string, number], CallRow>(
      'SELECT * FROM calls WHERE tenant = ? ORDER BY created_at DESC LIMIT ?',
    );
    this.#recentByAgent = db.prepare<[string, number], CallRow>(
      'SELECT * FROM calls WHERE agent_id = ? ORDER BY created_at DESC LIMIT ?',
    );
    this.#closeInterrupted = db.prepare<[number]>(
      `UPDATE calls SET state = 'ended',
         outcome = CASE WHEN answered_at IS NOT NULL THEN 'answered' ELSE 'failed' END,
         ended_by = 'gateway', reason = 'gateway_restart', ended_at = ?
       WHERE state != 'ended'`,
    );
    this.#open = db.prepare<[], Pick<CallRow, 'id' | 'dialogs' | 'attempts'>>(
      "SELECT id, dialogs, attempts FROM calls WHERE state != 'ended'",
    );
    this.#endAttempts = db.prepare<[string, string]>('UPDATE calls SET attempts = ? WHERE id = ?');
    this.#byCustomer = db.prepare<[string, string, number], CallRow>(
      'SELECT * FROM calls WHERE tenant = ? AND customer_id = ? AND created_at >= ? ORDER BY created_at LIMIT 1000',
    );
  }

  async insert(record: CallRecord): Promise<void> {
    this.#insert.run(callParams(record));
  }

  async update(record: CallRecord): Promise<void> {
    this.#update.run(callParams(record));
  }

  async closeInterrupted(at: number): Promise<InterruptedCall[]> {
    return this.#db.transaction(() => {
      const open = this.#open.all();
      for (const row of open) {
        // Their legs ended with the gateway: each attempt still open ends now too.
        this.#endAttempts.run(JSON.stringify(endAttempts(row.attempts, at)), row.id);
      }
      this.#closeInterrupted.run(at);
      return open.map((row) => ({
        id: row.id,
        dialogs: JSON.parse(row.dialogs) as StoredDialog[],
      }));
    })();
  }

  async get(id: string): Promise<CallRecord | undefined> {
    const row = this.#get.get(id);
    return row ? callFromRow(row) : undefined;
  }

  async listBySession(tenant: string, sessionId: string, limit = 50): Promise<CallRecord[]> {
    return this.#bySession.all(tenant, sessionId, limit).map(callFromRow);
  }

  async listByCustomer(tenant: string, customerId: string, sinceMs: number): Promise<CallRecord[]> {
    return this.#byCustomer.all(tenant, customerId, sinceMs).map(callFromRow);
  }

  async listRecent(
    limit: number,
    filter: { tenant?: string; agentId?: string } = {},
  ): Promise<CallRecord[]> {
    const rows =
      filter.agentId !== undefined
        ? this.#recentByAgent.all(filter.agentId, limit)
        : filter.tenant !== undefined
          ? this.#recentByTenant.all(filter.tenant, limit)
          : this.#recent.all(limit);
    return rows
      .map(callFromRow)
      .filter((r) => filter.tenant === undefined || r.tenant === filter.tenant);
  }
}
