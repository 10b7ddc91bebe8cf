/**
 * The `storage` and `shared` sections: where what must last is kept (SQLite or
 * PostgreSQL) and where the hot state several gateways share lives (Redis).
 * docs/scaling.md says what lives where.
 */
import { z } from 'zod';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
  .optional();

const postgres = z
  .strictObject({
    /** `postgres://user@host:port/database` (or a socket: `postgres:///db?host=/run/postgresql`). */
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    /** Or the parts (ignored when url is given). */
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    /** The password itself; better given through passwordEnv (read at start-up). */
    password: z.string().min(1).optional(),
    /** The name of the environment variable holding the password. */
    passwordEnv: envName,
    /** Connections per gateway (node-postgres pool). */
    poolSize: z.number().int().min(1).max(200).default(10),
    /** A connection must be made within this. */
    connectTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** A statement running longer is cancelled by the server (0: no limit). */
    statementTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
  })
  .refine((p) => p.url !== undefined || p.database !== undefined, 'give url or database')
  .refine(
    (p) => p.password === undefined || p.passwordEnv === undefined,
    'give password or passwordEnv, not both',
  );

export const storage = z.strictObject({
  /** `sqlite` (one gateway, a file) or `postgres` (several gateways, one database). */
  kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /** SQLite file; `:memory:` for tests. */
  path: z.string().default('.var/parley.sqlite'),
  /** SQLite's page cache in MB (grows only as pages are read; the default 2 MB of SQLite halved call-entry matching). */
  sqliteCacheMb: z.number().int().min(2).max(65_536).default(128),
  /** Recordings of the `record` verb, one directory per tenant. */
  recordingsDir: z.string().min(1).default('.var/recordings'),
  /** Required when kind is `postgres`. */
  postgres: postgres.optional(),
});

const redis = z.strictObject({
  /** `redis://[user[:password]@]host:port[/db]` or `rediss://` (TLS). */
  url: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
  /** The name of the environment variable holding the password (instead of in the URL). */
  passwordEnv: envName,
  /** Every key the gateways write starts with this (several clusters on one Redis). */
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_:.-]*$/)
    .default('parley:'),
  /** A command that has not answered by then fails: the call path never waits longer. */
  commandTimeoutMs: z.number().int().min(10).max(10_000).default(500),
  connectTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
});

export const shared = z.strictObject({
  /** Redis for the state gateways share; without it everything stays in this process. */
  redis: redis.optional(),
  /**
   * This process's id among the gateways sharing the stores (every gateway of a
   * cluster has the same `gatewayId`, the tokens' audience). Default: `gatewayId`.
   * Keep it across restarts: a gateway closes the calls its previous run left open.
   */
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .optional(),
  /** How often this gateway renews its answered calls' agent slots in Redis. */
  heartbeatSeconds: z.number().int().min(1).max(60).default(2),
  /** An answered call's agent slot lapses this long after its gateway last renewed it. */
  leaseSeconds: z.number().int().min(3).max(600).default(10),
});
