/**
 * A gated facility for unit tests: an in-memory SQLite with the gated tables,
 * a Gate on a clock the test moves, and helpers that seed residents, devices
 * and accounts the way the admin API would (PINs hashed with cheap scrypt
 * parameters, so tests stay fast; the hash format is the real one).
 */
import { createLogger } from '../../observability/index.js';
import { gatedTenantSchema, type GatedTenantConfig } from '../../config/index.js';
import { openDatabase, type SqliteDatabase } from '../../storage/index.js';
import { digestHa1 } from '../../sip/message/index.js';
import { Registry } from 'prom-client';
import { MemoryDevicePresence } from '../devices/device-presence.js';
import { Gate } from '../gate.js';
import { GatedMetrics } from '../metrics.js';
import { PinHasher } from '../pins/pin-hash.js';
import { GATED_SCHEMA, createSqliteGatedStore, type GatedStore } from '../store/index.js';
import type { DeviceKind, StoredAccount, StoredDevice, StoredResident } from '../types.js';

export const TENANT = 'facility';
export const REALM = 'parley.test';
/** Fast scrypt for tests (the production default is logN 14). */
export const TEST_PINS = new PinHasher({ logN: 4, r: 8, p: 1 });

export interface GatedWorld {
  readonly db: SqliteDatabase;
  readonly store: GatedStore;
  readonly presence: MemoryDevicePresence;
  readonly metrics: GatedMetrics;
  readonly registry: Registry;
  gate: Gate;
  /** The clock every component reads; tests move it. */
  now: number;
  /** A new Gate on the same store (a gateway restart). */
  restart(tenants?: Record<string, GatedTenantConfig>): Gate;
  device(
    address: string,
    options?: Partial<StoredDevice> & { kind?: DeviceKind; registered?: boolean },
  ): StoredDevice;
  resident(
    id: string,
    options?: Partial<StoredResident> & { pin?: string },
  ): Promise<StoredResident>;
  account(
    id: string,
    options?: Partial<StoredAccount> & {
      pin?: string;
      phone?: string;
      balance?: number;
      approve?: string[];
    },
  ): Promise<StoredAccount>;
  close(): void;
}

export function gatedConfig(input: Record<string, unknown> = {}): GatedTenantConfig {
  return gatedTenantSchema.parse(input);
}

export async function createGatedWorld(
  tenants: Record<string, GatedTenantConfig> = { [TENANT]: gatedConfig() },
  options: { path?: string } = {},
): Promise<GatedWorld> {
  const db = openDatabase(options.path ?? ':memory:', [GATED_SCHEMA]);
  const store = createSqliteGatedStore(db);
  const presence = new MemoryDevicePresence();
  const registry = new Registry();
  const metrics = new GatedMetrics(registry);
  const logger = createLogger('silent');
  const world: GatedWorld = {
    db,
    store,
    presence,
    metrics,
    registry,
    now: Date.UTC(2026, 0, 5, 12, 0, 0), // a Monday, noon UTC
    gate: undefined as unknown as Gate,
    restart(next = tenants) {
      world.gate?.close();
      world.gate = new Gate({
        tenants: next,
        store,
        presence,
        pins: TEST_PINS,
        metrics,
        logger,
        realm: REALM,
        now: () => world.now,
      });
      return world.gate;
    },
    device(address, o = {}) {
      const sipUser = o.sipUser ?? `gd-${address}`;
      const device: StoredDevice = {
        tenant: o.tenant ?? TENANT,
        address,
        kind: o.kind ?? 'sip',
        name: o.name ?? null,
        sipUser,
        enabled: o.enabled ?? true,
        callingHours: o.callingHours ?? null,
        blockedUntil: o.blockedUntil ?? null,
        realm: REALM,
        ha1: {
          MD5: digestHa1(sipUser, REALM, 'device-secret', 'MD5'),
          'SHA-256': digestHa1(sipUser, REALM, 'device-secret', 'SHA-256'),
        },
        credentialStamp: 'stamp-1',
        createdAt: world.now,
        updatedAt: world.now,
      };
      // SQLite's store writes before its promise resolves: the device is there on return.
      void store.devices.put(device);
      if (o.registered ?? true)
        presence.setContacts(device.tenant, address, [
          {
            uri: `sip:${sipUser}@127.0.0.1:5099`,
            expiresAt: world.now + 3600_000,
            flowId: undefined,
          },
        ]);
      return device;
    },
    async resident(id, o = {}) {
      const resident: StoredResident = {
        tenant: o.tenant ?? TENANT,
        id,
        name: o.name ?? `Resident ${id}`,
        number: o.number ?? null,
        status: o.status ?? 'active',
        devices: o.devices ?? [],
        pinSet: o.pin !== undefined || o.pinHash !== undefined,
        pinHash: o.pinHash ?? (o.pin === undefined ? null : await TEST_PINS.hash(o.pin)),
        createdAt: world.now,
        updatedAt: world.now,
      };
      await store.residents.put(resident);
      return resident;
    },
    async account(id, o = {}) {
      const tenant = o.tenant ?? TENANT;
      const account: StoredAccount = {
        tenant,
        id,
        number: o.number ?? `9${id.replace(/\D/g, '').padStart(9, '0')}`,
        name: o.name ?? `Caller ${id}`,
        phones: o.phones ?? (o.phone ? [{ number: o.phone, verifiedAt: world.now }] : []),
        webLogin: o.webLogin ?? null,
        ratePerMinute: o.ratePerMinute ?? 10,
        balance: 0,
        status: o.status ?? 'active',
        pinSet: o.pin !== undefined,
        pinHash: o.pin === undefined ? null : await TEST_PINS.hash(o.pin),
        createdAt: world.now,
        updatedAt: world.now,
      };
      await store.accounts.insert(account);
      const balance = o.balance ?? 1000;
      if (balance > 0)
        await store.billing.credit({
          tenant,
          accountId: id,
          key: `seed-${id}`,
          amount: balance,
          note: null,
          actor: 'test',
          at: world.now,
        });
      for (const residentId of o.approve ?? [])
        await store.accounts.setApproval({
          tenant,
          accountId: id,
          residentId,
          status: 'approved',
          decidedAt: world.now,
          decidedBy: 'test',
        });
      return (await store.accounts.get(tenant, id))!;
    },
    close() {
      world.gate.close();
      db.close();
    },
  };
  world.restart();
  return world;
}
