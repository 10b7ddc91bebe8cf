/**
 * The residents and their device links in PostgreSQL (`storage.kind:
 * postgres`), shared by every gateway of a cluster: a resident added through
 * one gateway is called through any. A resident and its links are written in
 * one statement, so no gateway reads a resident without its devices.
 */
import type { Page, StoredResident } from '../../types.js';
import type { ListOptions, ResidentStore } from '../store.js';
import type { PgQueryable } from './pg-queryable.js';

interface ResidentRow {
  tenant: string;
  id: string;
  name: string;
  number: string | null;
  status: string;
  pin_hash: string | null;
  created_at: number;
  updated_at: number;
  /** The linked device addresses, in address order. */
  devices: string[];
}

/** A resident with its devices in one statement. */
const SELECT = `SELECT r.*, ARRAY(SELECT d.address FROM gated_resident_devices d
    WHERE d.tenant = r.tenant AND d.resident_id = r.id ORDER BY d.address) AS devices
  FROM gated_residents r`;

const fromRow = (row: ResidentRow): StoredResident => ({
  tenant: row.tenant,
  id: row.id,
  name: row.name,
  number: row.number,
  status: row.status === 'inactive' ? 'inactive' : 'active',
  devices: row.devices,
  pinSet: row.pin_hash !== null,
  pinHash: row.pin_hash,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class PgResidentStore implements ResidentStore {
  readonly #db: PgQueryable;

  /** `db`: the pool, or the connection of a transaction (`GatedStore.transaction`). */
  constructor(db: PgQueryable) {
    this.#db = db;
  }

  async #one(where: string, params: unknown[]): Promise<StoredResident | undefined> {
    const { rows } = await this.#db.query<ResidentRow>(`${SELECT} WHERE ${where}`, params);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  get(tenant: string, id: string): Promise<StoredResident | undefined> {
    return this.#one('r.tenant = $1 AND r.id = $2', [tenant, id]);
  }

  byNumber(tenant: string, number: string): Promise<StoredResident | undefined> {
    return this.#one('r.tenant = $1 AND r.number = $2', [tenant, number]);
  }

  async list(tenant: string, options: ListOptions): Promise<Page<StoredResident>> {
    const { rows } = await this.#db.query<ResidentRow>(
      `${SELECT} WHERE r.tenant = $1 AND ($2::text IS NULL OR r.id > $2) ORDER BY r.id LIMIT $3`,
      [tenant, options.after ?? null, options.limit + 1],
    );
    const items = rows.slice(0, options.limit).map(fromRow);
    return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
  }

  /**
   * The resident, the links it no longer has removed and its new ones added,
   * in one statement (atomic without a transaction; the links' foreign keys
   * are checked at its end, when the resident row is there).
   */
  async put(r: StoredResident): Promise<void> {
    await this.#db.query(
      `WITH resident AS (
         INSERT INTO gated_residents (tenant, id, name, number, status, pin_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, number = excluded.number,
           status = excluded.status, pin_hash = excluded.pin_hash, updated_at = excluded.updated_at
         RETURNING id
       ), unlinked AS (
         DELETE FROM gated_resident_devices
         WHERE tenant = $1 AND resident_id = $2 AND NOT (address = ANY ($9::text[]))
       )
       INSERT INTO gated_resident_devices (tenant, resident_id, address)
       SELECT $1, $2, a FROM unnest($9::text[]) AS a
       ON CONFLICT DO NOTHING`,
      [
        r.tenant,
        r.id,
        r.name,
        r.number,
        r.status,
        r.pinHash,
        r.createdAt,
        r.updatedAt,
        [...new Set(r.devices)],
      ],
    );
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      'DELETE FROM gated_residents WHERE tenant = $1 AND id = $2',
      [tenant, id],
    );
    return (rowCount ?? 0) > 0;
  }

  async ofDevice(tenant: string, address: string): Promise<string[]> {
    const { rows } = await this.#db.query<{ resident_id: string }>(
      `SELECT resident_id FROM gated_resident_devices WHERE tenant = $1 AND address = $2
       ORDER BY resident_id`,
      [tenant, address],
    );
    return rows.map((r) => r.resident_id);
  }
}
