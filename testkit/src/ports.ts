/**
 * Ports for peers that must not collide, even across the parallel processes a
 * test runner starts. Asking the kernel for port 0 and closing the socket is
 * racy (two peers can be handed the same number before either binds it), so
 * ports are reserved with lock files in a shared directory (`O_EXCL` create,
 * the owner's pid inside; a lock whose owner died is taken over) and then
 * checked: no socket of the namespace may use them in any state (the kernel's
 * socket table, which also shows TIME_WAIT), and a bind on 127.0.0.1 must work.
 *
 * The default range (20000-31999) stays below Linux's ephemeral range
 * (32768-60999), so an outgoing connection never lands on a reserved port.
 */
import * as dgram from 'node:dgram';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onProcessExit } from './cleanup.js';
import { portInUse } from './socket-table.js';
import { TestkitError } from './testkit-error.js';

export type PortProtocol = 'udp' | 'tcp';

/** Consecutive reserved ports `base … base + size - 1`. */
export interface PortBlock {
  readonly base: number;
  readonly size: number;
  readonly ports: readonly number[];
  /** Frees the reservation (idempotent). */
  release(): void;
}

export interface PortAllocatorOptions {
  /** Lowest port handed out. Default 20000. */
  readonly min?: number;
  /** Highest port handed out. Default 31999. */
  readonly max?: number;
  /** Where the lock files live; share it between every process that must not collide. */
  readonly lockDir?: string;
  /** Address the ports are checked on. Default 127.0.0.1. */
  readonly host?: string;
}

export interface AllocateOptions {
  /** Protocols each port must be free for. Default both. */
  readonly protocols?: readonly PortProtocol[];
  /** Start the block on an even port (RTP/RTCP pairs). Default true. */
  readonly even?: boolean;
}

const DEFAULT_LOCK_DIR = join(tmpdir(), 'parley-testkit-ports');
const MAX_ATTEMPTS = 400;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function canBind(protocol: PortProtocol, host: string, port: number): Promise<boolean> {
  // A port some socket still uses in any state (a closed connection's TIME_WAIT
  // among them) is not free for a peer that binds without SO_REUSEADDR, as
  // sipp does, although Node's own listen (which sets it) would succeed.
  if (portInUse(protocol, port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
    } else {
      const socket = dgram.createSocket({ type: 'udp4' });
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind({ address: host, port, exclusive: true }, () =>
        socket.close(() => resolve(true)),
      );
    }
  });
}

export class PortAllocator {
  readonly #min: number;
  readonly #max: number;
  readonly #lockDir: string;
  readonly #host: string;
  readonly #held = new Set<number>();
  readonly #removeExitHook: () => void;

  constructor(options: PortAllocatorOptions = {}) {
    this.#min = options.min ?? 20000;
    this.#max = options.max ?? 31999;
    this.#lockDir = options.lockDir ?? DEFAULT_LOCK_DIR;
    this.#host = options.host ?? '127.0.0.1';
    if (this.#min < 1024 || this.#max > 65535 || this.#min >= this.#max) {
      throw new TestkitError('bad_input', `bad port range ${this.#min}-${this.#max}`);
    }
    mkdirSync(this.#lockDir, { recursive: true });
    this.#removeExitHook = onProcessExit(() => this.releaseAll());
  }

  /** Reserves `size` consecutive ports, each free on the host for the given protocols. */
  async allocate(size = 1, options: AllocateOptions = {}): Promise<PortBlock> {
    const protocols = options.protocols ?? ['udp', 'tcp'];
    const even = options.even ?? true;
    const span = this.#max - this.#min + 1 - size;
    if (size < 1 || span < 0) throw new TestkitError('bad_input', `cannot allocate ${size} ports`);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let base = this.#min + Math.floor(Math.random() * (span + 1));
      if (even && base % 2 === 1) base = base - 1 >= this.#min ? base - 1 : base + 1;
      if (base + size - 1 > this.#max) continue;
      const ports = Array.from({ length: size }, (_, i) => base + i);
      if (!this.#lockAll(ports)) continue;
      let free = true;
      for (const port of ports) {
        for (const protocol of protocols) {
          if (!(await canBind(protocol, this.#host, port))) free = false;
          if (!free) break;
        }
        if (!free) break;
      }
      if (!free) {
        // Bound by something outside the testkit: try another block.
        this.#unlockAll(ports);
        continue;
      }
      let released = false;
      return {
        base,
        size,
        ports,
        release: () => {
          if (released) return;
          released = true;
          this.#unlockAll(ports);
        },
      };
    }
    throw new TestkitError(
      'no_free_port',
      `no ${size} free consecutive ports in ${this.#min}-${this.#max}`,
    );
  }

  /** Frees every port this allocator holds (also runs at process exit). */
  releaseAll(): void {
    this.#unlockAll([...this.#held]);
  }

  /** Frees everything and stops watching for process exit. */
  close(): void {
    this.releaseAll();
    this.#removeExitHook();
  }

  #lockAll(ports: readonly number[]): boolean {
    const taken: number[] = [];
    for (const port of ports) {
      if (!this.#lock(port)) {
        this.#unlockAll(taken);
        return false;
      }
      taken.push(port);
    }
    return true;
  }

  #lock(port: number): boolean {
    const path = join(this.#lockDir, String(port));
    for (let tries = 0; tries < 2; tries++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.#held.add(port);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        let owner: number;
        try {
          owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
        } catch {
          // Being written or removed right now: treat as held.
          return false;
        }
        if (Number.isNaN(owner)) {
          // Just created, pid not written yet, unless it has been empty for long.
          const mtime = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
          if (mtime === undefined) continue; // removed meanwhile: try again
          if (Date.now() - mtime < 10_000) return false;
        } else if (owner === process.pid || isAlive(owner)) {
          return false;
        }
        try {
          unlinkSync(path); // stale: its owner died without cleaning up
        } catch {
          return false;
        }
      }
    }
    return false;
  }

  #unlockAll(ports: readonly number[]): void {
    for (const port of ports) {
      if (!this.#held.delete(port)) continue;
      try {
        unlinkSync(join(this.#lockDir, String(port)));
      } catch {
        // Already gone.
      }
    }
  }
}

let defaultAllocator: PortAllocator | undefined;

/**
 * The allocator `freePort` and the peer helpers use when none is passed in.
 * Created on first use; every allocator shares the lock directory, so separate
 * instances (or processes) never hand out the same port either.
 */
export function defaultPortAllocator(): PortAllocator {
  defaultAllocator ??= new PortAllocator();
  return defaultAllocator;
}

/**
 * One free port on 127.0.0.1, reserved until the process exits (or until
 * `defaultPortAllocator().releaseAll()`).
 */
export async function freePort(protocol: PortProtocol | 'both' = 'both'): Promise<number> {
  const protocols: PortProtocol[] = protocol === 'both' ? ['udp', 'tcp'] : [protocol];
  const block = await defaultPortAllocator().allocate(1, { protocols, even: false });
  return block.base;
}
