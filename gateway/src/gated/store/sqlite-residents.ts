import type { SqliteDatabase } from '../../storage/index.js';
import type { Page, StoredResident } from '../types.js';
import type { ListOptions, ResidentStore } from './store.js';

interface ResidentRow {
  tenant: string;
  id: string;
  name: string;
  number: string | null;
  status: string;
  pin_hash: string | null;
  created_at: number;
  updated_at: number;
}

export class SqliteResidentStore implements ResidentStore {
  readonly #get;
  readonly #byNumber;
  readonly #list;
  readonly #listAfter;
  readonly #devices;
  readonly #put;
  readonly #unlink;
  readonly #link;
  readonly #delete;
  readonly #ofDevice;
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#get = db.prepare<[string, string], ResidentRow>(
      'SELECT * FROM gated_residents WHERE tenant = ? AND id = ?',
    );
    this.#byNumber = db.prepare<[string, string], ResidentRow>(
      'SELECT * FROM gated_residents WHERE tenant = ? AND number = ?',
    );
    this.#list = db.prepare<[string, number], ResidentRow>(
      'SELECT * FROM gated_residents WHERE tenant = ? ORDER BY id LIMIT ?',
    );
    this.#listAfter = db.prepare<[string, string, number], ResidentRow>(
      'SELECT * FROM gated_residents WHERE tenant = ? AND id > ? ORDER BY id LIMIT ?',
    );
    this.#devices = db
      .prepare<[string, string], string>(
        'SELECT address FROM gated_resident_devices WHERE tenant = ? AND resident_id = ? ORDER BY address',
      )
      .pluck();
    this.#put = db.prepare(
      `INSERT INTO gated_residents (tenant, id, name, number, status, pin_hash, created_at, updated_at)
       VALUES (@tenant, @id, @name, @number, @status, @pin_hash, @created_at, @updated_at)
       ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, number = excluded.number,
         status = excluded.status, pin_hash = excluded.pin_hash, updated_at = excluded.updated_at`,
    );
    this.#unlink = db.prepare(
      'DELETE FROM gated_resident_devices WHERE tenant = ? AND resident_id = ?',
    );
    this.#link = db.prepare(
      'INSERT INTO gated_resident_devices (tenant, resident_id, address) VALUES (?, ?, ?)',
    );
    this.#delete = db.prepare('DELETE FROM gated_residents WHERE tenant = ? AND id = ?');
    this.#ofDevice = db
      .prepare<[string, string], string>(
        'SELECT resident_id FROM gated_resident_devices WHERE tenant = ? AND address = ? ORDER BY resident_id',
      )
      .pluck();
  }

  #view(row: ResidentRow): StoredResident {
    return {
      tenant: row.tenant,
      id: row.id,
      name: row.name,
      number: row.number,
      status: row.status === 'inactive' ? 'inactive' : 'active',
      devices: this.#devices.all(row.tenant, row.id),
      pinSet: row.pin_hash !== null,
      pinHash: row.pin_hash,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  async get(tenant: string, id: string): Promise<StoredResident | undefined> {
    const row = this.#get.get(tenant, id);
    return row ? this.#view(row) : undefined;
  }

  async byNumber(tenant: string, number: string): Promise<StoredResident | undefined> {
    const row = this.#byNumber.get(tenant, number);
    return row ? this.#view(row) : undefined;
  }

  async list(tenant: string, options: ListOptions): Promise<Page<StoredResident>> {
    const rows =
      options.after === undefined
        ? this.#list.all(tenant, options.limit + 1)
        : this.#listAfter.all(tenant, options.after, options.limit + 1);
    const items = rows.slice(0, options.limit).map((r) => this.#view(r));
    return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async put(resident: StoredResident): Promise<void> {
    this.#db.transaction(() => {
      this.#put.run({
        tenant: resident.tenant,
        id: resident.id,
        name: resident.name,
        number: resident.number,
        status: resident.status,
        pin_hash: resident.pinHash,
        created_at: resident.createdAt,
        updated_at: resident.updatedAt,
      });
      this.#unlink.run(resident.tenant, resident.id);
      for (const address of new Set(resident.devices))
        this.#link.run(resident.tenant, resident.id, address);
    })();
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return this.#delete.run(tenant, id).changes > 0;
  }

  async ofDevice(tenant: string, address: string): Promise<string[]> {
    return this.#ofDevice.all(tenant, address);
  }
}
