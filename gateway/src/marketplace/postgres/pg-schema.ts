/**
 * The marketplace's tables in PostgreSQL (module `marketplace` in
 * `schema_migrations`), shared by every gateway of a cluster. Column names
 * and kinds follow SQLite's (`../schema.ts`: JSON as TEXT, epoch
 * milliseconds as BIGINT), so both stores read rows the same way. Never edit
 * a released migration; add the next.
 */
export const MARKETPLACE_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE mp_listing_spend (
    listing_id TEXT NOT NULL,
    day TEXT NOT NULL,
    spent BIGINT NOT NULL CHECK (spent >= 0),
    PRIMARY KEY (listing_id, day)
  );
  `,
  `
  -- The directory: every gateway keeps a copy in memory (read by the auction
  -- index and the call path), loaded at start and refreshed every 5 s.
  CREATE TABLE mp_advertisers (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT,
    billing TEXT NOT NULL CHECK (billing IN ('prepaid', 'credit')),
    credit_limit BIGINT NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX mp_advertisers_external ON mp_advertisers(tenant, external_id) WHERE external_id IS NOT NULL;

  CREATE TABLE mp_publishers (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    placement_key TEXT NOT NULL UNIQUE,
    origins TEXT NOT NULL,
    share_percent INTEGER NOT NULL CHECK (share_percent BETWEEN 0 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );

  CREATE TABLE mp_listings (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    advertiser_id TEXT NOT NULL REFERENCES mp_advertisers(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    region TEXT NOT NULL,
    schedule TEXT,
    destination TEXT NOT NULL,
    bid BIGINT NOT NULL CHECK (bid > 0),
    daily_budget BIGINT NOT NULL CHECK (daily_budget > 0),
    min_connected_seconds INTEGER NOT NULL CHECK (min_connected_seconds >= 0),
    static_number TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    pause_reason TEXT,
    paused_day TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX mp_listings_advertiser ON mp_listings(advertiser_id);

  CREATE TABLE mp_placements (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    category TEXT NOT NULL,
    region TEXT NOT NULL,
    slots INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    page TEXT,
    decision TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );

  -- S3's log entries. seq orders impressions logged in the same millisecond (SQLite's rowid).
  CREATE TABLE mp_impressions (
    seq BIGSERIAL NOT NULL,
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    placement_id TEXT NOT NULL,
    listing_id TEXT NOT NULL,
    advertiser_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    slot INTEGER NOT NULL,
    price BIGINT NOT NULL,
    bid BIGINT NOT NULL,
    quality DOUBLE PRECISION NOT NULL,
    device_id TEXT NOT NULL,
    page TEXT,
    number TEXT,
    number_kind TEXT NOT NULL CHECK (number_kind IN ('leased', 'static', 'none')),
    lease_start BIGINT NOT NULL,
    lease_end BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX mp_impressions_device ON mp_impressions(tenant, device_id, lease_start) INCLUDE (number, listing_id, id);
  CREATE INDEX mp_impressions_number ON mp_impressions(number, lease_start, seq) INCLUDE (id, listing_id);
  CREATE INDEX mp_impressions_placement ON mp_impressions(placement_id);
  CREATE INDEX mp_impressions_listing_device ON mp_impressions(listing_id, device_id, lease_start);
  CREATE INDEX mp_impressions_recent ON mp_impressions(created_at, seq);

  -- The key that seals impression references (HMAC-SHA256): one per cluster,
  -- so a reference one gateway sealed opens on every other.
  CREATE TABLE mp_keys (name TEXT PRIMARY KEY, secret BYTEA NOT NULL);

  -- Tracking-number leases agreed by every gateway: one row per number of a
  -- pool; a lease takes the least recently released free number under its
  -- row lock (FOR UPDATE SKIP LOCKED), so two gateways never lease one number at once.
  -- seq orders leases ending in the same millisecond as they were taken (the LRU's FIFO).
  CREATE SEQUENCE mp_number_lease_seq;
  CREATE TABLE mp_number_leases (
    number TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    lease_end BIGINT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0
  );
  CREATE INDEX mp_number_leases_free ON mp_number_leases(tenant, lease_end, seq, number);
  `,
  `
  -- Calls that reached a listing, through any gateway: one row per call id (a
  -- second gateway recording the same call finds it), owned by the gateway
  -- instance that carries it (\`shared.instanceId\`): at start a gateway closes
  -- and charges only its own calls a crash left open.
  CREATE TABLE mp_calls (
    call_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tracked', 'web', 'direct')),
    listing_id TEXT NOT NULL,
    advertiser_id TEXT NOT NULL,
    publisher_id TEXT,
    impression_id TEXT,
    price BIGINT NOT NULL,
    min_connected_seconds INTEGER NOT NULL,
    day TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    connected_at BIGINT,
    qualifies_at BIGINT,
    qualified_at BIGINT,
    ended_at BIGINT,
    charge_key TEXT,
    charged BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    refusal TEXT,
    claim TEXT
  );
  CREATE INDEX mp_calls_open ON mp_calls(owner) WHERE ended_at IS NULL;
  CREATE INDEX mp_calls_listing ON mp_calls(listing_id, started_at);
  CREATE INDEX mp_calls_recent ON mp_calls(started_at);

  -- The cluster's daily counts (reports, quality scores): every count is
  -- written in the transaction that changes the call (or logs the placement)
  -- it counts, by a statement that counts only when the change happened.
  CREATE TABLE mp_daily (
    day TEXT NOT NULL,
    tenant TEXT NOT NULL,
    listing_id TEXT NOT NULL,
    advertiser_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    impressions BIGINT NOT NULL DEFAULT 0,
    calls BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    qualified BIGINT NOT NULL DEFAULT 0,
    spend BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, listing_id, publisher_id)
  );
  CREATE INDEX mp_daily_tenant ON mp_daily(tenant, day);

  -- The same counts over all time per listing (the quality scores every
  -- gateway reads every 5 s: one row per listing, not a sum over the days).
  CREATE TABLE mp_listing_stats (
    listing_id TEXT PRIMARY KEY,
    calls BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    qualified BIGINT NOT NULL DEFAULT 0
  );

  CREATE TABLE mp_call_entries (
    tenant TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('matched', 'unmatched')),
    reason TEXT,
    impression_id TEXT,
    device_id TEXT NOT NULL,
    number TEXT,
    started_at BIGINT NOT NULL,
    duration_seconds DOUBLE PRECISION,
    data TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, entry_id)
  );
  CREATE INDEX mp_call_entries_impression ON mp_call_entries(impression_id) WHERE impression_id IS NOT NULL;

  -- When each gateway instance was last known alive (its calls' recovery bound).
  CREATE TABLE mp_heartbeats (owner TEXT PRIMARY KEY, alive_at BIGINT NOT NULL);
  `,
];
