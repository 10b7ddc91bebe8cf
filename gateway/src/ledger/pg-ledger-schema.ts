/**
 * The ledger's tables in PostgreSQL (`storage.kind: postgres`), versioned like
 * `LEDGER_SCHEMA`'s SQLite ones (never edit a released one, add the next):
 * the same columns, amounts and times as BIGINT, the key UNIQUE (the one
 * guard against a double charge across gateways), postings append-only.
 */
export const LEDGER_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX ledger_accounts_tenant ON ledger_accounts(tenant, kind);

  CREATE TABLE ledger_transactions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    memo TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    reverses BIGINT REFERENCES ledger_transactions(id),
    created_at BIGINT NOT NULL
  );
  CREATE INDEX ledger_transactions_tenant ON ledger_transactions(tenant, id);
  CREATE INDEX ledger_transactions_reverses ON ledger_transactions(reverses) WHERE reverses IS NOT NULL;

  CREATE TABLE ledger_postings (
    transaction_id BIGINT NOT NULL REFERENCES ledger_transactions(id),
    seq INTEGER NOT NULL,
    account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
    amount BIGINT NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (transaction_id, account_id)
  );
  CREATE INDEX ledger_postings_account ON ledger_postings(account_id, transaction_id);

  CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'ledger % are append-only', TG_ARGV[0];
  END $$;
  CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only('postings');
  CREATE TRIGGER ledger_transactions_append_only BEFORE DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only('transactions');
  `,
];
