/** Schema versions, in order; never edit a released one, add the next. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    tenant TEXT NOT NULL,
    session_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    public_claims TEXT NOT NULL,
    private_claims TEXT NOT NULL,
    number TEXT,
    number_fallback INTEGER NOT NULL DEFAULT 0,
    number_expires_at INTEGER,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, session_id)
  );
  CREATE UNIQUE INDEX sessions_live_number ON sessions(number) WHERE number IS NOT NULL AND number_fallback = 0;

  CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    session_id TEXT NOT NULL,
    session_number TEXT NOT NULL,
    number_fallback INTEGER NOT NULL DEFAULT 0,
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
    created_at INTEGER NOT NULL,
    ringing_at INTEGER,
    answered_at INTEGER,
    ended_at INTEGER
  );
  CREATE INDEX calls_session ON calls(tenant, session_id, created_at);
  CREATE INDEX calls_visitor_call_id ON calls(visitor_call_id);
  `,
  `
  CREATE TABLE messages (
    call_id TEXT NOT NULL REFERENCES calls(id),
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
  );
  `,
  `
  ALTER TABLE calls ADD COLUMN customer_id TEXT;
  ALTER TABLE calls ADD COLUMN routing TEXT;
  CREATE INDEX calls_customer ON calls(tenant, customer_id, created_at);
  `,
  `
  CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    realm TEXT NOT NULL,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    profile TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX agents_tenant ON agents(tenant);
  `,
  `
  ALTER TABLE calls ADD COLUMN dialogs TEXT NOT NULL DEFAULT '[]';
  `,
];
