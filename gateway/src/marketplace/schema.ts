import type { SchemaModule } from '../storage/index.js';

/**
 * The marketplace's tables (prefix `mp_`). Money is INTEGER minor units; times
 * are epoch milliseconds; days are `YYYY-MM-DD` in `marketplace.timeZone`.
 * Never edit a released migration; add the next.
 */
export const MARKETPLACE_SCHEMA: SchemaModule = {
  name: 'marketplace',
  migrations: [
    `
    CREATE TABLE mp_advertisers (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      name TEXT NOT NULL,
      external_id TEXT,
      billing TEXT NOT NULL CHECK (billing IN ('prepaid', 'credit')),
      credit_limit INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
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
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
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
      bid INTEGER NOT NULL CHECK (bid > 0),
      daily_budget INTEGER NOT NULL CHECK (daily_budget > 0),
      min_connected_seconds INTEGER NOT NULL CHECK (min_connected_seconds >= 0),
      static_number TEXT,
      status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
      pause_reason TEXT,
      paused_day TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX mp_listings_advertiser ON mp_listings(advertiser_id);
    CREATE INDEX mp_listings_static_number ON mp_listings(static_number) WHERE static_number IS NOT NULL;

    -- Every placement decision, with what explains it (candidates, scores, prices).
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
      created_at INTEGER NOT NULL
    );

    -- S3's log entries: device identifier, virtual number, lease.
    CREATE TABLE mp_impressions (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      placement_id TEXT NOT NULL,
      listing_id TEXT NOT NULL,
      advertiser_id TEXT NOT NULL,
      publisher_id TEXT NOT NULL,
      slot INTEGER NOT NULL,
      price INTEGER NOT NULL,
      bid INTEGER NOT NULL,
      quality REAL NOT NULL,
      device_id TEXT NOT NULL,
      page TEXT,
      number TEXT,
      number_kind TEXT NOT NULL CHECK (number_kind IN ('leased', 'static', 'none')),
      lease_start INTEGER NOT NULL,
      lease_end INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    );
    -- Covering indexes: call-entry matching reads a device's log entries and a
    -- number's holder from the index alone, never the table (measured 2x).
    CREATE INDEX mp_impressions_device ON mp_impressions(tenant, device_id, lease_start, number, listing_id, id);
    CREATE INDEX mp_impressions_number ON mp_impressions(number, lease_start, id, listing_id);
    CREATE INDEX mp_impressions_placement ON mp_impressions(placement_id);
    CREATE INDEX mp_impressions_listing_device ON mp_impressions(listing_id, device_id, lease_start);

    -- Calls that reached a listing, and their billing state.
    CREATE TABLE mp_calls (
      call_id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('tracked', 'web', 'direct')),
      listing_id TEXT NOT NULL,
      advertiser_id TEXT NOT NULL,
      publisher_id TEXT,
      impression_id TEXT,
      price INTEGER NOT NULL,
      min_connected_seconds INTEGER NOT NULL,
      day TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      connected_at INTEGER,
      qualifies_at INTEGER,
      qualified_at INTEGER,
      ended_at INTEGER,
      charge_key TEXT,
      charged INTEGER NOT NULL DEFAULT 0,
      refunded INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX mp_calls_open ON mp_calls(qualifies_at) WHERE ended_at IS NULL;
    CREATE INDEX mp_calls_listing ON mp_calls(listing_id, started_at);

    -- Per day, listing and publisher ('' for calls without one): what reports show.
    CREATE TABLE mp_daily (
      day TEXT NOT NULL,
      tenant TEXT NOT NULL,
      listing_id TEXT NOT NULL,
      advertiser_id TEXT NOT NULL,
      publisher_id TEXT NOT NULL,
      impressions INTEGER NOT NULL DEFAULT 0,
      calls INTEGER NOT NULL DEFAULT 0,
      answered INTEGER NOT NULL DEFAULT 0,
      qualified INTEGER NOT NULL DEFAULT 0,
      spend INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (day, listing_id, publisher_id)
    );
    CREATE INDEX mp_daily_tenant ON mp_daily(tenant, day);

    -- A content provider's call entries (S3), one per entry id, with the impression matched.
    CREATE TABLE mp_call_entries (
      tenant TEXT NOT NULL,
      entry_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('matched', 'unmatched')),
      reason TEXT,
      impression_id TEXT,
      device_id TEXT NOT NULL,
      number TEXT,
      started_at INTEGER NOT NULL,
      duration_seconds REAL,
      data TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      PRIMARY KEY (tenant, entry_id)
    );
    CREATE INDEX mp_call_entries_impression ON mp_call_entries(impression_id) WHERE impression_id IS NOT NULL;

    -- When the gateway was last known alive: after a crash, calls connected
    -- long enough before it are charged (docs/marketplace.md, "Billing").
    CREATE TABLE mp_heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), alive_at INTEGER NOT NULL);
    `,
    `
    -- Why a call was not put through to the listing's destination (the trunk's
    -- outbound rules refuse its number now): never connected, never charged.
    ALTER TABLE mp_calls ADD COLUMN refusal TEXT;
    `,
    `
    -- An impression the web caller claimed that was not taken (a broken seal,
    -- another listing's, expired), and why: the call went through unattributed.
    ALTER TABLE mp_calls ADD COLUMN claim TEXT;
    -- The key that seals impression references handed to pages (HMAC-SHA256),
    -- made once per database so a restart keeps the references shown before it valid.
    CREATE TABLE mp_keys (name TEXT PRIMARY KEY, secret BLOB NOT NULL);
    `,
  ],
};
