/**
 * The voicemail index in PostgreSQL (module `voicemail` in
 * `schema_migrations`), shared by every gateway of a cluster. Columns and
 * kinds follow SQLite's (`../store.ts`: JSON as TEXT, epoch milliseconds as
 * BIGINT), so both stores read rows the same way. The webhook outbox is
 * here too (`pg-outbox.ts`): any live gateway delivers what a dead one had not
 * sent; so are the tombstones of WAVs left on a retired gateway's disk
 * (`pg-tombstones.ts`). Never edit a released migration; add the next.
 */
export const VOICEMAIL_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE vm_voicemails (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    queue TEXT NOT NULL,
    agent TEXT,
    cause TEXT NOT NULL DEFAULT 'no-answer',
    status TEXT NOT NULL CHECK (status IN ('recording', 'left', 'taken', 'abandoned', 'failed')),
    session_number TEXT NOT NULL,
    session_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    page TEXT,
    public_claims TEXT NOT NULL,
    private_claims TEXT NOT NULL,
    recording_path TEXT,
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    end_reason TEXT,
    utterances TEXT NOT NULL DEFAULT '[]',
    transcript TEXT,
    transcript_error TEXT,
    taken_by TEXT,
    taken_at BIGINT,
    heard_at BIGINT,
    heard_by TEXT,
    -- The gateway holding the WAV (shared.instanceId): it alone deletes the file, then the row.
    gateway TEXT NOT NULL,
    -- A delete asked on another gateway: hidden at once, removed by its gateway's next sweep.
    deleted_at BIGINT
  );
  CREATE INDEX vm_voicemails_tenant ON vm_voicemails(tenant, created_at);
  CREATE INDEX vm_voicemails_tenant_queue ON vm_voicemails(tenant, queue, created_at);
  CREATE INDEX vm_voicemails_tenant_agent ON vm_voicemails(tenant, agent, created_at);
  CREATE INDEX vm_voicemails_call ON vm_voicemails(call_id);
  CREATE INDEX vm_voicemails_gateway ON vm_voicemails(gateway, created_at);
  `,
  // The lost-gateway sweeper asks every heartbeat which gateways have rows still recording.
  `
  CREATE INDEX vm_voicemails_recording ON vm_voicemails(gateway) WHERE status = 'recording';
  `,
  // The webhook outbox, shared (pg-outbox.ts): a lane (tenant, url) is sent in id order by
  // the gateway holding its advisory lock; `delivery` is the receiver's id to drop duplicates.
  `
  CREATE TABLE vm_webhook_outbox (
    id BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    url TEXT NOT NULL,
    delivery TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX vm_webhook_outbox_lane ON vm_webhook_outbox(tenant, url, id);
  `,
  // Tombstones (pg-tombstones.ts): a row deleted by a gateway that does not hold its WAV (a
  // retired gateway's, swept by another) leaves the file's path for its gateway, written by
  // the row's DELETE itself; that gateway removes the file when it comes back, then the tombstone.
  `
  CREATE TABLE vm_tombstones (
    id TEXT PRIMARY KEY,
    gateway TEXT NOT NULL,
    recording_path TEXT NOT NULL,
    deleted_at BIGINT NOT NULL
  );
  CREATE INDEX vm_tombstones_gateway ON vm_tombstones(gateway, deleted_at);
  `,
];
