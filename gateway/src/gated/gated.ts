/**
 * The gated module as the composition root builds it: its tables on the
 * gateway's database, the Gate (the authenticating server), the meter, and
 * the two routers (the facility's API under `/v1/gated`, the resident
 * device's under `/resident`). `close()` stops its timers; safe twice.
 */
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { LostGatewayModule } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { migrateModule, type SqliteDatabase } from '../storage/index.js';
import type { AdminDeps } from './admin/common.js';
import { MemoryDevicePresence, type DevicePresence } from './devices/device-presence.js';
import { Gate } from './gate.js';
import { gatedAdminRouter } from './http/admin-router.js';
import { deviceRouter } from './http/device-router.js';
import { DeviceSessions } from './http/device-session.js';
import { Meter } from './meter.js';
import { GatedMetrics } from './metrics.js';
import { PinHasher } from './pins/pin-hash.js';
import { refuseUnmoved, type PgPool } from '../storage/postgres/index.js';
import {
  GATED_SCHEMA,
  createPgGatedStore,
  createSqliteGatedStore,
  type GatedStore,
} from './store/index.js';

export interface GatedModule {
  readonly gate: Gate;
  readonly meter: Meter;
  readonly store: GatedStore;
  readonly presence: DevicePresence;
  /** Mounted at `/v1/gated` (behind the API key check). */
  readonly adminRouter: Router;
  /** Mounted at `/resident`. */
  readonly deviceRouter: Router;
  /** A lost gateway's running meters, for the cluster's sweeper (shared stores). */
  readonly lost: LostGatewayModule;
  close(): void;
}

export interface GatedModuleOptions {
  readonly config: Config;
  readonly db: SqliteDatabase;
  /**
   * With `storage.kind: postgres`: the cluster's database (migrated with
   * `GATED_PG_MIGRATIONS`), where the accounts, their money and the
   * decisions are kept. Undefined with SQLite.
   */
  readonly pool?: PgPool | undefined;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * The devices' registrations and sign-ins shared by the cluster (with
   * `shared.redis`, `cluster/device-sync.ts`); else this gateway's own, in memory.
   */
  readonly presence?: DevicePresence | undefined;
  /** scrypt parameters (tests lower them; the default is documented in pin-hash.ts). */
  readonly pins?: PinHasher;
}

/**
 * A gateway that ran on `storage.kind: postgres` before the gated module
 * moved to PostgreSQL kept its accounts and their money (before the first
 * move), then its residents, devices and audit log (before the second) in
 * its SQLite file; so does one that ran on SQLite. Started now it would read
 * empty tables: every account "not found", every balance gone, every credit
 * key free to count again, every resident unknown, every device refused at
 * REGISTER. It refuses to start instead (nothing is lost: the rows stay in
 * the file) until `parley-gateway move` copied them and marked the file
 * (`gated/store/move.ts`; docs/gated.md, "Several gateways").
 */
function refuseSqliteRows(db: SqliteDatabase): void {
  const row = db
    .prepare<[], { accounts: number; residents: number; devices: number; audit: number }>(
      `SELECT (SELECT count(*) FROM gated_accounts) AS accounts,
              (SELECT count(*) FROM gated_residents) AS residents,
              (SELECT count(*) FROM gated_devices) AS devices,
              (SELECT count(*) FROM gated_audit) AS audit`,
    )
    .get();
  refuseUnmoved(db, 'gated', row ?? {}, 'balances, credit keys, residents and devices lost');
}

export async function createGatedModule(options: GatedModuleOptions): Promise<GatedModule> {
  const { config, now, logger } = options;
  migrateModule(options.db, GATED_SCHEMA);
  if (options.pool) refuseSqliteRows(options.db);
  const store = options.pool
    ? createPgGatedStore(options.pool, config.shared.instanceId ?? config.gatewayId)
    : createSqliteGatedStore(options.db);
  const presence = options.presence ?? new MemoryDevicePresence();
  const pins = options.pins ?? new PinHasher();
  const metrics = new GatedMetrics(options.registry);
  const tenants = Object.fromEntries(
    Object.entries(config.tenants).flatMap(([id, t]) => (t.gated ? [[id, t.gated]] : [])),
  );
  const gate = new Gate({
    tenants,
    store,
    presence,
    pins,
    metrics,
    logger,
    realm: config.sip.domain,
    now,
  });
  const meter = new Meter({ billing: store.billing, metrics, logger, now });
  await meter.recover();
  const adminDeps: AdminDeps = {
    store,
    presence,
    pins,
    tenants,
    realm: config.sip.domain,
    now,
    log: logger,
  };
  const sessions = new DeviceSessions({
    secret: config.desk.sessionSecret,
    now,
    stamp: async (tenant, address) => (await store.devices.get(tenant, address))?.credentialStamp,
  });
  let closed = false;
  return {
    gate,
    meter,
    store,
    presence,
    adminRouter: gatedAdminRouter(adminDeps),
    deviceRouter: deviceRouter({
      gate,
      store,
      sessions,
      sipDomain: config.sip.domain,
      sipWsPath: config.sip.wsPath,
      now,
    }),
    lost: {
      name: 'gated',
      openOwners: () => meter.openOwners(),
      recoverLost: (owner) => meter.recoverLost(owner),
    },
    close() {
      if (closed) return;
      closed = true;
      meter.close();
      gate.close();
    },
  };
}
