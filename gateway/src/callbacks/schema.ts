import type { SchemaModule } from '../storage/index.js';

/**
 * The callbacks' table (prefix `cb_`). Times are epoch milliseconds, money
 * INTEGER minor units. The attempts (each with both legs, the key and the
 * outcome) are a JSON array in the row: they are written with the row's
 * state in one statement, so a record never shows a state its attempt does
 * not explain. Never edit a released migration; add the next.
 */
export const CALLBACKS_SCHEMA: SchemaModule = {
  name: 'callbacks',
  migrations: [
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
      due_at INTEGER NOT NULL,
      expires_at INTEGER,
      state TEXT NOT NULL CHECK (state IN ('scheduled', 'calling', 'prompting', 'connecting', 'connected', 'ended')),
      outcome TEXT,
      code TEXT,
      fee INTEGER NOT NULL CHECK (fee >= 0),
      currency TEXT NOT NULL,
      connected_at INTEGER,
      charged_at INTEGER,
      charge_key TEXT UNIQUE,
      charge_tx INTEGER,
      attempts TEXT NOT NULL,
      dialogs TEXT NOT NULL,
      private_claims TEXT NOT NULL,
      watch_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      ended_at INTEGER
    );
    CREATE INDEX cb_callbacks_state_due ON cb_callbacks(state, due_at);
    CREATE INDEX cb_callbacks_phone ON cb_callbacks(phone, created_at);
    CREATE INDEX cb_callbacks_session ON cb_callbacks(tenant, session_id, created_at);
    CREATE INDEX cb_callbacks_tenant ON cb_callbacks(tenant, created_at);
    `,
    // The advertiser's ringing INVITEs, for the CANCEL after a crash (model.ts `ringing`);
    // connected callbacks whose charge failed (a shared ledger that was down), charged at start.
    `
    ALTER TABLE cb_callbacks ADD COLUMN ringing TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX cb_callbacks_uncharged ON cb_callbacks(id)
      WHERE connected_at IS NOT NULL AND charged_at IS NULL;
    `,
  ],
};
