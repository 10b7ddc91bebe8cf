/**
 * Redis (Debian `redis-server`) as a real shared store for tests and
 * benchmarks: on 127.0.0.1 at a port from the testkit's allocator, no
 * persistence (a test's Redis starts empty), its own temporary directory.
 * `kill()` and `restart()` are for the failure tests: the gateways must keep
 * serving while it is gone, and use it again once it is back on the same port.
 * `kill({ keepData: true })` first writes a snapshot (`SAVE`) that the next
 * `restart({ keepData: true })` loads: a Redis that comes back with what it
 * held when it went away (a persisted one, or a replica promoted).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultPortAllocator, type PortAllocator } from './ports.js';
import { type ManagedProcess, runCommand, spawnManaged } from './process.js';

export interface RedisOptions {
  readonly ports?: PortAllocator;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly process: ManagedProcess;
  /** Runs one command through redis-cli; resolves its raw output. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL: gone at once, as in a crash (`keepData`: after a snapshot of what it holds). */
  kill(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again on the same port: empty, or (`keepData`) with the last kill's snapshot. */
  restart(options?: { keepData?: boolean }): Promise<void>;
  log(): string;
  /** Stops it and frees its port. Safe twice. */
  stop(): Promise<void>;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const ports = options.ports ?? defaultPortAllocator();
  const block = await ports.allocate(1, { protocols: ['tcp'], even: false });
  const port = block.base;
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  const launch = async (): Promise<ManagedProcess> => {
    const proc = spawnManaged({
      name: 'redis-server',
      command: '/usr/bin/redis-server',
      args: [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'no',
        '--loglevel',
        'notice',
      ],
    });
    try {
      await proc.waitForOutput('Ready to accept connections', 15_000);
    } catch (error) {
      await proc.stop({ signal: 'SIGKILL' });
      throw error;
    }
    return proc;
  };
  let proc = await launch().catch(async (error: unknown) => {
    block.release();
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return proc;
    },
    cli: async (...args) =>
      (await runCommand('/usr/bin/redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]))
        .stdout,
    kill: async (o = {}) => {
      if (o.keepData)
        await runCommand('/usr/bin/redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'SAVE']);
      await proc.stop({ signal: 'SIGKILL' });
    },
    restart: async (o = {}) => {
      await proc.stop();
      if (!o.keepData) await rm(join(dir, 'dump.rdb'), { force: true });
      proc = await launch();
    },
    log: () => proc.output(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      block.release();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
