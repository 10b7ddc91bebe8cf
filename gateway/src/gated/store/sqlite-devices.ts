import type { SqliteDatabase } from '../../storage/index.js';
import type { CallingHours } from '../../config/index.js';
import type { Page, StoredDevice } from '../types.js';
import type { DeviceStore, ListOptions } from './store.js';

interface DeviceRow {
  tenant: string;
  address: string;
  kind: string;
  name: string | null;
  sip_user: string;
  enabled: number;
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
  enabled: row.enabled === 1,
  callingHours: row.calling_hours === null ? null : (JSON.parse(row.calling_hours) as CallingHours),
  blockedUntil: row.blocked_until,
  realm: row.realm,
  ha1: { MD5: row.ha1_md5, 'SHA-256': row.ha1_sha256 },
  credentialStamp: row.credential_stamp,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class SqliteDeviceStore implements DeviceStore {
  readonly #get;
  readonly #bySipUser;
  readonly #list;
  readonly #listAfter;
  readonly #put;
  readonly #delete;

  constructor(db: SqliteDatabase) {
    this.#get = db.prepare<[string, string], DeviceRow>(
      'SELECT * FROM gated_devices WHERE tenant = ? AND address = ?',
    );
    this.#bySipUser = db.prepare<[string], DeviceRow>(
      'SELECT * FROM gated_devices WHERE sip_user = ?',
    );
    this.#list = db.prepare<[string, number], DeviceRow>(
      'SELECT * FROM gated_devices WHERE tenant = ? ORDER BY address LIMIT ?',
    );
    this.#listAfter = db.prepare<[string, string, number], DeviceRow>(
      'SELECT * FROM gated_devices WHERE tenant = ? AND address > ? ORDER BY address LIMIT ?',
    );
    this.#put = db.prepare(
      `INSERT INTO gated_devices (tenant, address, kind, name, sip_user, enabled, calling_hours,
         blocked_until, realm, ha1_md5, ha1_sha256, credential_stamp, created_at, updated_at)
       VALUES (@tenant, @address, @kind, @name, @sip_user, @enabled, @calling_hours,
         @blocked_until, @realm, @ha1_md5, @ha1_sha256, @credential_stamp, @created_at, @updated_at)
       ON CONFLICT (tenant, address) DO UPDATE SET kind = excluded.kind, name = excluded.name,
         enabled = excluded.enabled, calling_hours = excluded.calling_hours,
         blocked_until = excluded.blocked_until, realm = excluded.realm, ha1_md5 = excluded.ha1_md5,
         ha1_sha256 = excluded.ha1_sha256, credential_stamp = excluded.credential_stamp,
         updated_at = excluded.updated_at`,
    );
    this.#delete = db.prepare('DELETE FROM gated_devices WHERE tenant = ? AND address = ?');
  }

  async get(tenant: string, address: string): Promise<StoredDevice | undefined> {
    const row = this.#get.get(tenant, address);
    return row ? fromRow(row) : undefined;
  }

  async bySipUser(sipUser: string): Promise<StoredDevice | undefined> {
    const row = this.#bySipUser.get(sipUser);
    return row ? fromRow(row) : undefined;
  }

  async list(tenant: string, options: ListOptions): Promise<Page<StoredDevice>> {
    const rows =
      options.after === undefined
        ? this.#list.all(tenant, options.limit + 1)
        : this.#listAfter.all(tenant, options.after, options.limit + 1);
    const items = rows.slice(0, options.limit).map(fromRow);
    return { items, next: rows.length > options.limit ? (items.at(-1)?.address ?? null) : null };
  }

  async put(device: StoredDevice): Promise<void> {
    this.#put.run({
      tenant: device.tenant,
      address: device.address,
      kind: device.kind,
      name: device.name,
      sip_user: device.sipUser,
      enabled: device.enabled ? 1 : 0,
      calling_hours: device.callingHours === null ? null : JSON.stringify(device.callingHours),
      blocked_until: device.blockedUntil,
      realm: device.realm,
      ha1_md5: device.ha1.MD5,
      ha1_sha256: device.ha1['SHA-256'],
      credential_stamp: device.credentialStamp,
      created_at: device.createdAt,
      updated_at: device.updatedAt,
    });
  }

  async delete(tenant: string, address: string): Promise<boolean> {
    return this.#delete.run(tenant, address).changes > 0;
  }
}
