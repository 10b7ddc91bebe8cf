/**
 * The callbacks' table in PostgreSQL (module `callbacks` in
 * `schema_migrations`, `storage.kind: postgres`), shared by every gateway of
 * a cluster. Columns and kinds follow SQLite's (`schema.ts`: JSON as TEXT,
 * epoch milliseconds as BIGINT), so both stores read rows the same way.
 * `owner` is the gateway (`shared.instanceId`) whose scheduler runs the
 * callback and whose stop leaves it interrupted; a survivor takes a lost
 * gateway's over (`lost.ts`). `claim_token` is the last claim's (the runner's
 * check after a claim whose answer was lost). Never edit a released migration; add the next.
 */
export const CALLBACKS_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE cb_callbacks (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    destination TEXT NOT NULL,
    listing_id TEXT,
    advertiser_id TEXT,
    advertiser_name TEXT NOT NULL,
    target TEXT NOT NULL,
    phone TEXT NOT NULL,
    caller_number TEXT NOT NULL,
    session_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    page TEXT,
    impression_id TEXT,
    token_id TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL CHECK (mode IN ('now', 'slot', 'agent-free')),
    due_at BIGINT NOT NULL,
    expires_at BIGINT,
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'calling', 'prompting', 'connecting', 'connected', 'ended')),
    outcome TEXT,
    code TEXT,
    fee BIGINT NOT NULL CHECK (fee >= 0),
    currency TEXT NOT NULL,
    connected_at BIGINT,
    charged_at BIGINT,
    charge_key TEXT UNIQUE,
    charge_tx BIGINT,
    attempts TEXT NOT NULL,
    dialogs TEXT NOT NULL,
    ringing TEXT NOT NULL DEFAULT '[]',
    private_claims TEXT NOT NULL,
    watch_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ended_at BIGINT
  );
  CREATE INDEX cb_callbacks_state_due ON cb_callbacks(state, due_at);
  CREATE INDEX cb_callbacks_phone ON cb_callbacks(phone, created_at);
  CREATE INDEX cb_callbacks_session ON cb_callbacks(tenant, session_id, created_at);
  CREATE INDEX cb_callbacks_tenant ON cb_callbacks(tenant, created_at);
  CREATE INDEX cb_callbacks_open ON cb_callbacks(owner, state) WHERE state <> 'ended';
  CREATE INDEX cb_callbacks_uncharged ON cb_callbacks(id)
    WHERE connected_at IS NOT NULL AND charged_at IS NULL;
  `,
  // Each claim's own token (a UUID), written with the move to calling: a claim whose answer was
  // lost is asked again with it, and answers true when the first one landed (\`claim(…, again)\`).
  `ALTER TABLE cb_callbacks ADD COLUMN claim_token TEXT;`,
];
