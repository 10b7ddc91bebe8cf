/**
 * Where the mediasoup worker is, and loading mediasoup's Node module pointed at
 * it. mediasoup reads MEDIASOUP_WORKER_BIN once, when its module is first
 * imported, so the module is imported here (dynamically, after the variable is
 * set) and nowhere else.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as mediasoupModule from 'mediasoup';

type Mediasoup = typeof mediasoupModule;

/** The mediasoup version the worker is built for (scripts/mediasoup-worker-build.sh). */
export const MEDIASOUP_VERSION = '3.19.3';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where mediasoup's own install (or scripts/setup.sh) puts the worker. */
export function defaultWorkerBin(): string | undefined {
  try {
    // Its main module is node/lib/index.js (package.json is not exported).
    const main = createRequire(import.meta.url).resolve('mediasoup');
    return join(dirname(main), '..', '..', 'worker', 'out', 'Release', 'mediasoup-worker');
  } catch {
    return undefined; // mediasoup is not installed
  }
}

/**
 * The worker binary to use: the configured one, else MEDIASOUP_WORKER_BIN, else
 * the one in mediasoup's package; undefined when none of these is an
 * executable file.
 */
export function findWorkerBin(configured?: string): string | undefined {
  const candidates = [configured, process.env['MEDIASOUP_WORKER_BIN'], defaultWorkerBin()];
  for (const candidate of candidates) {
    if (candidate) return executable(candidate) ? candidate : undefined;
  }
  return undefined;
}

let loaded: { readonly workerBin: string; readonly module: Promise<Mediasoup> } | undefined;

/** mediasoup's module, spawning workers from `workerBin` (one binary per process). */
export function loadMediasoup(workerBin: string): Promise<Mediasoup> {
  if (loaded) {
    if (loaded.workerBin !== workerBin) {
      return Promise.reject(
        new Error(
          `mediasoup is already loaded with the worker ${loaded.workerBin}; one worker binary per process`,
        ),
      );
    }
    return loaded.module;
  }
  process.env['MEDIASOUP_WORKER_BIN'] = workerBin;
  loaded = { workerBin, module: import('mediasoup') };
  return loaded.module;
}
