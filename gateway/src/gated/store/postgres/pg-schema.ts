/**
 * The gated module's tables in PostgreSQL (module `gated` in
 * `schema_migrations`), used with `storage.kind: postgres` by every gateway
 * of a cluster: the accounts (phones, approvals), their money (credits,
 * meters, per-minute charges) and the decisions (version 1); the residents,
 * their devices, the audit log and the wrong-PIN counts (version 2). Columns
 * follow SQLite's (`../schema.ts`: JSON as TEXT, epoch milliseconds as
 * BIGINT). An approval has no foreign key to its resident (version 1 had no
 * resident table; the resident's delete removes them:
 * `deleteResidentApprovals`). A meter records the gateway running it
 * (`owner`), so a restarted gateway closes only its own. Never edit a
 * released migration; add the next.
 */
export const GATED_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE gated_accounts (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    number TEXT NOT NULL,
    name TEXT NOT NULL,
    web_login TEXT,
    pin_hash TEXT,
    rate_per_minute BIGINT NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
  );
  CREATE UNIQUE INDEX gated_accounts_number ON gated_accounts(tenant, number);
  CREATE UNIQUE INDEX gated_accounts_web_login ON gated_accounts(tenant, web_login) WHERE web_login IS NOT NULL;

  CREATE TABLE gated_account_phones (
    tenant TEXT NOT NULL,
    account_id TEXT NOT NULL,
    number TEXT NOT NULL,
    verified_at BIGINT,
    PRIMARY KEY (tenant, account_id, number),
    FOREIGN KEY (tenant, account_id) REFERENCES gated_accounts(tenant, id) ON DELETE CASCADE
  );
  CREATE UNIQUE INDEX gated_account_phones_number ON gated_account_phones(tenant, number);

  CREATE TABLE gated_account_residents (
    tenant TEXT NOT NULL,
    account_id TEXT NOT NULL,
    resident_id TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    PRIMARY KEY (tenant, account_id, resident_id),
    FOREIGN KEY (tenant, account_id) REFERENCES gated_accounts(tenant, id) ON DELETE CASCADE
  );
  CREATE INDEX gated_account_residents_resident ON gated_account_residents(tenant, resident_id);

  CREATE TABLE gated_credits (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    account_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    note TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant, key)
  );
  CREATE INDEX gated_credits_account ON gated_credits(tenant, account_id, at);

  CREATE TABLE gated_meters (
    call_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    account_id TEXT NOT NULL,
    rate_per_minute BIGINT NOT NULL,
    connected_at BIGINT NOT NULL,
    minutes_charged INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT,
    owner TEXT NOT NULL
  );
  CREATE INDEX gated_meters_running ON gated_meters(owner) WHERE state = 'running';

  -- (call_id, minute) is the idempotency key of a minute's charge.
  CREATE TABLE gated_charges (
    call_id TEXT NOT NULL,
    minute INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    account_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (call_id, minute)
  );
  CREATE INDEX gated_charges_account ON gated_charges(tenant, account_id, at);

  CREATE TABLE gated_decisions (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    call_id TEXT,
    stage TEXT NOT NULL,
    at BIGINT NOT NULL,
    allowed BOOLEAN NOT NULL,
    decided_by TEXT NOT NULL,
    failed TEXT,
    account_id TEXT,
    resident_id TEXT,
    body TEXT NOT NULL
  );
  CREATE INDEX gated_decisions_call ON gated_decisions(tenant, call_id, at);
  CREATE INDEX gated_decisions_account ON gated_decisions(tenant, account_id, at);
  CREATE INDEX gated_decisions_at ON gated_decisions(tenant, at);
  `,
  `
  CREATE TABLE gated_residents (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    number TEXT,
    status TEXT NOT NULL,
    pin_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
  );
  CREATE UNIQUE INDEX gated_residents_number ON gated_residents(tenant, number) WHERE number IS NOT NULL;

  -- A SIP username is the gateway's (the registrar looks it up alone): unique in the cluster.
  CREATE TABLE gated_devices (
    tenant TEXT NOT NULL,
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    sip_user TEXT NOT NULL UNIQUE,
    enabled BOOLEAN NOT NULL,
    calling_hours TEXT,
    blocked_until BIGINT,
    realm TEXT NOT NULL,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    credential_stamp TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, address)
  );

  CREATE TABLE gated_resident_devices (
    tenant TEXT NOT NULL,
    resident_id TEXT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (tenant, resident_id, address),
    FOREIGN KEY (tenant, resident_id) REFERENCES gated_residents(tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, address) REFERENCES gated_devices(tenant, address) ON DELETE CASCADE
  );
  CREATE INDEX gated_resident_devices_address ON gated_resident_devices(tenant, address);

  CREATE TABLE gated_audit (
    seq BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT,
    after TEXT
  );
  CREATE INDEX gated_audit_tenant ON gated_audit(tenant, seq);
  CREATE INDEX gated_audit_entity ON gated_audit(tenant, entity, entity_id, seq);

  -- Counted in one upsert by any gateway (pg-records.ts): a lockout holds on all of them.
  CREATE TABLE gated_pin_attempts (
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT
  );
  `,
];
