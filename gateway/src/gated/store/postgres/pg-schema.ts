/**
 * The gated module's shared tables in PostgreSQL (module `gated` in
 * `schema_migrations`), used with `storage.kind: postgres` by every gateway
 * of a cluster: the accounts (phones, approvals), their money (credits,
 * meters, per-minute charges) and the decisions. Columns follow SQLite's
 * (`../schema.ts`: JSON as TEXT, epoch milliseconds as BIGINT). The
 * residents, devices, audit log and PIN counts are still in each gateway's
 * SQLite file, so an approval has no foreign key to its resident (the
 * resident's delete removes them: `deleteResidentApprovals`). A meter
 * records the gateway running it (`owner`), so a restarted gateway closes
 * only its own. Never edit a released migration; add the next.
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
];
