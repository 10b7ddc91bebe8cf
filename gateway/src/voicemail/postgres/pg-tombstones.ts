/**
 * The tombstones in PostgreSQL (`vm_tombstones`, `pg-schema.ts`): a row of
 * another gateway's WAV deleted here (`PgVoicemailStore.delete`: a retired
 * gateway's, swept by this one) leaves its path for that gateway, in the
 * statement that deletes the row. This reads and clears one gateway's own
 * (`../tombstones.ts` removes the files in between).
 */
import type { PgPool } from '../../storage/postgres/index.js';
import type { TombstoneStore, VoicemailTombstone } from '../tombstones.js';

interface TombstoneRow {
  id: string;
  recording_path: string;
  deleted_at: number;
}

export class PgTombstones implements TombstoneStore {
  readonly #pool: PgPool;
  readonly #gateway: string;

  /** `gateway`: this gateway's `shared.instanceId`; only its tombstones are read. */
  constructor(pool: PgPool, gateway: string) {
    this.#pool = pool;
    this.#gateway = gateway;
  }

  async mine(limit: number, after?: string): Promise<VoicemailTombstone[]> {
    const { rows } = await this.#pool.query<TombstoneRow>(
      `SELECT id, recording_path, deleted_at FROM vm_tombstones
       WHERE gateway = $1 AND ($2::text IS NULL OR id > $2)
       ORDER BY id LIMIT $3`,
      [this.#gateway, after ?? null, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      recordingPath: row.recording_path,
      deletedAt: row.deleted_at,
    }));
  }

  async expire(before: number): Promise<number> {
    const { rowCount } = await this.#pool.query('DELETE FROM vm_tombstones WHERE deleted_at < $1', [
      before,
    ]);
    return rowCount ?? 0;
  }

  async clear(ids: readonly string[]): Promise<void> {
    await this.#pool.query('DELETE FROM vm_tombstones WHERE gateway = $1 AND id = ANY($2)', [
      this.#gateway,
      ids,
    ]);
  }
}
