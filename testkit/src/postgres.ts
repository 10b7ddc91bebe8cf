/**
 * PostgreSQL (Debian `postgresql`) as a real database for tests and
 * benchmarks: a throwaway cluster made with `initdb` in a temporary
 * directory, `postgres` listening on 127.0.0.1 at a port from the testkit's
 * allocator and on a socket in that directory, `trust` authentication (only
 * this machine's loopback reaches it), and no fsync (a test's crash is the
 * gateway's, never the database server's). PostgreSQL refuses to run as root:
 * as root the server runs as Debian's `postgres` user.
 */
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import { defaultPortAllocator, type PortAllocator } from './ports.js';
import { type ManagedProcess, runCommand, spawnManaged } from './process.js';
import { TestkitError } from './testkit-error.js';

export interface PostgresOptions {
  readonly ports?: PortAllocator;
  /** Database created at start. Default `parley`. */
  readonly database?: string;
  /** Superuser made by initdb. Default `parley`. */
  readonly user?: string;
  /** Extra server settings (`-c name=value`). */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface Postgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** `postgres://parley@127.0.0.1:<port>/parley` */
  readonly url: string;
  /** The directory of the server's Unix socket. */
  readonly socketDir: string;
  readonly process: ManagedProcess;
  /** A URL of another database on the same server (made by {@link createDatabase}). */
  urlOf(database: string): string;
  /** Creates an empty database (one per test keeps tests apart); resolves its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL through psql; resolves its output (unaligned, tuples only). */
  psql(sql: string, database?: string): Promise<string>;
  log(): string;
  /** Stops the server (fast shutdown) and removes the cluster. Safe twice. */
  stop(): Promise<void>;
}

/** Debian installs each major version's programs in /usr/lib/postgresql/<major>/bin. */
export async function postgresBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const dir = join(root, v, 'bin');
    if (existsSync(join(dir, 'postgres'))) return dir;
  }
  throw new TestkitError(
    'spawn_failed',
    'PostgreSQL is not installed (Debian package postgresql; ./scripts/install-system-deps.sh)',
  );
}

/** Runs a program as `postgres` when we are root (the server refuses root). */
async function asServerUser(): Promise<{ prefix: string[]; uid?: number; gid?: number }> {
  if (userInfo().uid !== 0) return { prefix: [] };
  const uid = Number((await runCommand('/usr/bin/id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await runCommand('/usr/bin/id', ['-g', 'postgres'])).stdout.trim());
  return {
    prefix: ['/usr/bin/setpriv', '--reuid=postgres', '--regid=postgres', '--clear-groups'],
    uid,
    gid,
  };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const bin = await postgresBinDir();
  const ports = options.ports ?? defaultPortAllocator();
  const user = options.user ?? 'parley';
  const database = options.database ?? 'parley';
  const block = await ports.allocate(1, { protocols: ['tcp'], even: false });
  const port = block.base;
  const dir = await mkdtemp(join(tmpdir(), 'parley-postgres-'));
  const data = join(dir, 'data');
  const as = await asServerUser();
  if (as.uid !== undefined && as.gid !== undefined) await chown(dir, as.uid, as.gid);
  const run = (command: string, args: string[], timeoutMs = 60_000) =>
    as.prefix.length > 0
      ? runCommand(as.prefix[0] ?? '', [...as.prefix.slice(1), '--', command, ...args], {
          timeoutMs,
        })
      : runCommand(command, args, { timeoutMs });
  let proc: ManagedProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // SIGINT is PostgreSQL's fast shutdown: sessions are ended, no wait for clients.
    await proc?.stop({ signal: 'SIGINT', graceMs: 5000 });
    block.release();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      user,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const settings: Record<string, string> = {
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      shared_buffers: '32MB',
      ...options.settings,
    };
    const serverArgs = [
      '-D',
      data,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-k',
      dir,
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ];
    proc = spawnManaged({
      name: 'postgres',
      command: as.prefix[0] ?? join(bin, 'postgres'),
      args:
        as.prefix.length > 0
          ? [
              ...as.prefix.slice(1),
              '--pdeathsig',
              'KILL',
              '--',
              join(bin, 'postgres'),
              ...serverArgs,
            ]
          : serverArgs,
      // setpriv above sets the death signal after dropping to postgres (a change
      // of user clears one set before it).
      dieWithParent: as.prefix.length === 0,
    });
    await proc.waitForOutput('database system is ready to accept connections', 30_000);
    const psql = async (sql: string, db = database) =>
      (
        await runCommand(join(bin, 'psql'), [
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          user,
          '-d',
          db,
          '-v',
          'ON_ERROR_STOP=1',
          '-A',
          '-t',
          '-c',
          sql,
        ])
      ).stdout;
    if (database !== 'postgres') await psql(`CREATE DATABASE "${database}"`, 'postgres');
    const urlOf = (db: string) => `postgres://${user}@127.0.0.1:${port}/${db}`;
    const server = proc;
    return {
      host: '127.0.0.1',
      port,
      database,
      user,
      url: urlOf(database),
      socketDir: dir,
      process: server,
      urlOf,
      createDatabase: async (name) => {
        if (!/^[a-z_][a-z0-9_]*$/.test(name))
          throw new TestkitError('bad_input', `database name ${name}: lower case, digits, _`);
        await psql(`CREATE DATABASE "${name}"`, 'postgres');
        return urlOf(name);
      },
      psql,
      log: () => server.output(),
      stop,
    };
  } catch (error) {
    const detail = proc?.describe() ?? '';
    await stop();
    if (error instanceof TestkitError && detail)
      throw new TestkitError(error.code, `${error.message}\n${detail}`, { cause: error });
    throw error;
  }
}
