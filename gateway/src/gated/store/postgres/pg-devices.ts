/**
 * The residents' devices in PostgreSQL (`storage.kind: postgres`), shared by
 * every gateway of a cluster: a device made through one gateway registers
 * (its SIP username and digest secret) and signs in through any.
 */
import type { CallingHours } from '../../../config/index.js';
import type { Page, StoredDevice } from '../../types.js';
import type { DeviceStore, ListOptions } from '../store.js';
import type { PgQueryable } from './pg-queryable.js';

interface DeviceRow {
  tenant: string;
  address: string;
  kind: string;
  name: string | null;
  sip_user: string;
  enabled: boolean;
  calling_hours: string | null;
  blocked_until: number | null;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  credential_stamp: string;
  created_at: number;
  updated_at: number;
}

const fromRow = (row: DeviceRow): StoredDevice => ({
  tenant: row.tenant,
  address: row.address,
  kind: row.kind === 'app' ? 'app' : 'sip',
  name: row.name,
  sipUser: row.sip_user,
  enabled: row.enabled,
  callingHours: row.calling_hours === null ? null : (JSON.parse(row.calling_hours) as CallingHours),
  blockedUntil: row.blocked_until,
  realm: row.realm,
  ha1: { MD5: row.ha1_md5, 'SHA-256': row.ha1_sha256 },
  credentialStamp: row.credential_stamp,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class PgDeviceStore implements DeviceStore {
  readonly #db: PgQueryable;

  /** `db`: the pool, or the connection of a transaction (`GatedStore.transaction`). */
  constructor(db: PgQueryable) {
    this.#db = db;
  }

  async #one(where: string, params: unknown[]): Promise<StoredDevice | undefined> {
    const { rows } = await this.#db.query<DeviceRow>(
      `SELECT * FROM gated_devices WHERE ${where}`,
      params,
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  get(tenant: string, address: string): Promise<StoredDevice | undefined> {
    return this.#one('tenant = $1 AND address = $2', [tenant, address]);
  }

  bySipUser(sipUser: string): Promise<StoredDevice | undefined> {
    return this.#one('sip_user = $1', [sipUser]);
  }

  async list(tenant: string, options: ListOptions): Promise<Page<StoredDevice>> {
    const { rows } = await this.#db.query<DeviceRow>(
      `SELECT * FROM gated_devices WHERE tenant = $1 AND ($2::text IS NULL OR address > $2)
       ORDER BY address LIMIT $3`,
      [tenant, options.after ?? null, options.limit + 1],
    );
    const items = rows.slice(0, options.limit).map(fromRow);
    return { items, next: rows.length > options.limit ? (items.at(-1)?.address ?? null) : null };
  }

  async put(d: StoredDevice): Promise<void> {
    await this.#db.query(
      `INSERT INTO gated_devices (tenant, address, kind, name, sip_user, enabled, calling_hours,
         blocked_until, realm, ha1_md5, ha1_sha256, credential_stamp, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (tenant, address) DO UPDATE SET kind = excluded.kind, name = excluded.name,
         enabled = excluded.enabled, calling_hours = excluded.calling_hours,
         blocked_until = excluded.blocked_until, realm = excluded.realm, ha1_md5 = excluded.ha1_md5,
         ha1_sha256 = excluded.ha1_sha256, credential_stamp = excluded.credential_stamp,
         updated_at = excluded.updated_at`,
      [
        d.tenant,
        d.address,
        d.kind,
        d.name,
        d.sipUser,
        d.enabled,
        d.callingHours === null ? null : JSON.stringify(d.callingHours),
        d.blockedUntil,
        d.realm,
        d.ha1.MD5,
        d.ha1['SHA-256'],
        d.credentialStamp,
        d.createdAt,
        d.updatedAt,
      ],
    );
  }

  async delete(tenant: string, address: string): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      'DELETE FROM gated_devices WHERE tenant = $1 AND address = $2',
      [tenant, address],
    );
    return (rowCount ?? 0) > 0;
  }
}
