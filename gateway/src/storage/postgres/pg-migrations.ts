/**
 * The core tables in PostgreSQL, versioned like SQLite's (`../migrations.ts`):
 * never edit a released one, add the next. Column names and kinds match the
 * SQLite tables (JSON as TEXT, epoch milliseconds as BIGINT, flags as 0/1), so
 * both stores read rows the same way.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    tenant TEXT NOT NULL,
    session_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    public_claims TEXT NOT NULL,
    private_claims TEXT NOT NULL,
    number TEXT,
    number_fallback INTEGER NOT NULL DEFAULT 0,
    number_expires_at BIGINT,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, session_id)
  );
  CREATE UNIQUE INDEX sessions_live_number ON sessions(number) WHERE number IS NOT NULL AND number_fallback = 0;

  CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    tenant TEXT NOT NULL,
    session_id TEXT NOT NULL,
    session_number TEXT NOT NULL,
    number_fallback INTEGER NOT NULL DEFAULT 0,
    customer_id TEXT,
    queue TEXT,
    origin TEXT NOT NULL,
    visitor_call_id TEXT NOT NULL,
    visitor_transport TEXT NOT NULL,
    visitor_source TEXT NOT NULL,
    agent_call_id TEXT,
    agent_id TEXT,
    state TEXT NOT NULL,
    outcome TEXT,
    ended_by TEXT,
    sip_status INTEGER,
    reason TEXT,
    attempts TEXT NOT NULL DEFAULT '[]',
    media TEXT,
    routing TEXT,
    dialogs TEXT NOT NULL DEFAULT '[]',
    channel TEXT NOT NULL DEFAULT 'browser',
    trunk TEXT,
    called TEXT,
    caller_number TEXT,
    flow TEXT,
    created_at BIGINT NOT NULL,
    ringing_at BIGINT,
    answered_at BIGINT,
    ended_at BIGINT
  );
  CREATE INDEX calls_session ON calls(tenant, session_id, created_at);
  CREATE INDEX calls_visitor_call_id ON calls(visitor_call_id);
  CREATE INDEX calls_customer ON calls(tenant, customer_id, created_at);
  CREATE INDEX calls_recent ON calls(created_at);
  CREATE INDEX calls_agent ON calls(agent_id, created_at);
  CREATE INDEX calls_open ON calls(owner) WHERE state <> 'ended';

  CREATE TABLE messages (
    call_id TEXT NOT NULL REFERENCES calls(id),
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
  );

  CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    realm TEXT NOT NULL,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    profile TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX agents_tenant ON agents(tenant);
  `,
  `
  -- What \`parley-gateway move\` moved of each SQLite file's modules
  -- (move-marks.ts): a run killed after a module's COMMIT finds it here.
  -- IF NOT EXISTS: a move of an earlier version made it itself (same columns).
  CREATE TABLE IF NOT EXISTS store_moves (
    file_id TEXT NOT NULL,
    module TEXT NOT NULL,
    moved_at BIGINT NOT NULL,
    tables JSONB NOT NULL,
    PRIMARY KEY (file_id, module)
  );
  `,
];
