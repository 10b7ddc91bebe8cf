import type { SqliteDatabase } from './database.js';
import type { CallRecord, InterruptedCall, StoredDialog } from './records.js';

/** Where call records live. SQLite here; the interface is what a PostgreSQL store implements. */
export interface CallStore {
  insert(record: CallRecord): void;
  /** Writes the mutable fields of the record. */
  update(record: CallRecord): void;
  get(id: string): CallRecord | undefined;
  listBySession(tenant: string, sessionId: string, limit?: number): CallRecord[];
  listRecent(limit: number, filter?: { tenant?: string; agentId?: string }): CallRecord[];
  /** A customer's calls since `sinceMs`, oldest first (for value routing's history). */
  listByCustomer(tenant: string, customerId: string, sinceMs: number): CallRecord[];
  /**
   * Closes the records of calls a stopped gateway left open (routing, ringing or
   * answered): ended by the gateway at `at` with reason `gateway_restart`. Run at
   * start-up, before any call, by the one gateway that owns the store.
   * Returns those calls with the dialogs of their answered legs, to be ended.
   */
  closeInterrupted(at: number): InterruptedCall[];
}

interface CallRow {
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

function fromRow(row: CallRow): CallRecord {
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

function toParams(r: CallRecord) {
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
    const columns = Object.keys(toParams({} as CallRecord));
    this.#insert = db.prepare(
      `INSERT INTO calls (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    const mutable = [
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
      'ringing_at',
      'answered_at',
      'ended_at',
    ];
    this.#update = db.prepare(
      `UPDATE calls SET ${mutable.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
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

  insert(record: CallRecord): void {
    this.#insert.run(toParams(record));
  }

  update(record: CallRecord): void {
    this.#update.run(toParams(record));
  }

  closeInterrupted(at: number): InterruptedCall[] {
    return this.#db.transaction(() => {
      const open = this.#open.all();
      for (const row of open) {
        // Their legs ended with the gateway: each attempt still open ends now too.
        const attempts = JSON.parse(row.attempts) as CallRecord['attempts'];
        for (const attempt of attempts) attempt.endedAt ??= at;
        this.#endAttempts.run(JSON.stringify(attempts), row.id);
      }
      this.#closeInterrupted.run(at);
      return open.map((row) => ({
        id: row.id,
        dialogs: JSON.parse(row.dialogs) as StoredDialog[],
      }));
    })();
  }

  get(id: string): CallRecord | undefined {
    const row = this.#get.get(id);
    return row ? fromRow(row) : undefined;
  }

  listBySession(tenant: string, sessionId: string, limit = 50): CallRecord[] {
    return this.#bySession.all(tenant, sessionId, limit).map(fromRow);
  }

  listByCustomer(tenant: string, customerId: string, sinceMs: number): CallRecord[] {
    return this.#byCustomer.all(tenant, customerId, sinceMs).map(fromRow);
  }

  listRecent(limit: number, filter: { tenant?: string; agentId?: string } = {}): CallRecord[] {
    const rows =
      filter.agentId !== undefined
        ? this.#recentByAgent.all(filter.agentId, limit)
        : filter.tenant !== undefined
          ? this.#recentByTenant.all(filter.tenant, limit)
          : this.#recent.all(limit);
    return rows
      .map(fromRow)
      .filter((r) => filter.tenant === undefined || r.tenant === filter.tenant);
  }
}
