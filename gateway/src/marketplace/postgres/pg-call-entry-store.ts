/**
 * A content provider's call entries in PostgreSQL (`storage.kind:
 * postgres`), one row per tenant and entry id for the whole cluster: a chunk
 * is written by one statement (`ON CONFLICT DO NOTHING … RETURNING`), and
 * the ids it did not write are the ones stored before (by this batch's
 * earlier chunk, another batch, or another gateway), read back in the same
 * transaction after the insert waited for any racing writer's commit.
 */
import { inTransaction, type PgPool } from '../../storage/postgres/index.js';
import {
  entryOf,
  type CallEntryStore,
  type EntryRow,
  type StoredEntry,
  type StoredOutcome,
} from '../call-entries/store.js';

export class PgCallEntryStore implements CallEntryStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async insertNew(
    tenant: string,
    entries: readonly StoredEntry[],
  ): Promise<Map<string, StoredOutcome>> {
    const out = new Map<string, StoredOutcome>();
    if (entries.length === 0) return out;
    const column = <K extends keyof StoredEntry>(k: K) => entries.map((e) => e[k]);
    return inTransaction(this.#pool, async (client) => {
      const inserted = await client.query<{ entry_id: string }>(
        `INSERT INTO mp_call_entries (tenant, entry_id, status, reason, impression_id, device_id, number,
           started_at, duration_seconds, data, received_at)
         SELECT $1::TEXT, * FROM UNNEST($2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[],
           $8::BIGINT[], $9::FLOAT8[], $10::TEXT[], $11::BIGINT[])
         ON CONFLICT (tenant, entry_id) DO NOTHING RETURNING entry_id`,
        [
          tenant,
          column('entryId'),
          column('status'),
          column('reason'),
          column('impressionId'),
          column('deviceId'),
          column('number'),
          column('startedAt'),
          column('durationSeconds'),
          column('data'),
          column('receivedAt'),
        ],
      );
      const fresh = new Set(inserted.rows.map((r) => r.entry_id));
      const others = entries.map((e) => e.entryId).filter((id) => !fresh.has(id));
      if (others.length === 0) return out;
      const { rows } = await client.query<{
        entry_id: string;
        status: StoredEntry['status'];
        impression_id: string | null;
        reason: string | null;
      }>(
        `SELECT entry_id, status, impression_id, reason FROM mp_call_entries
         WHERE tenant = $1 AND entry_id = ANY($2::TEXT[])`,
        [tenant, others],
      );
      for (const r of rows)
        out.set(r.entry_id, { status: r.status, impressionId: r.impression_id, reason: r.reason });
      return out;
    });
  }

  async get(tenant: string, entryId: string): Promise<StoredEntry | undefined> {
    const { rows } = await this.#pool.query<EntryRow>(
      'SELECT * FROM mp_call_entries WHERE tenant = $1 AND entry_id = $2',
      [tenant, entryId],
    );
    return rows[0] ? entryOf(rows[0]) : undefined;
  }

  async byImpression(impressionId: string): Promise<StoredEntry[]> {
    const { rows } = await this.#pool.query<EntryRow>(
      'SELECT * FROM mp_call_entries WHERE impression_id = $1 ORDER BY started_at',
      [impressionId],
    );
    return rows.map(entryOf);
  }
}
