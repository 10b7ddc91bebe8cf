/**
 * A Parley gateway as a child process (crash, restart and cluster tests: a
 * SIGKILL really kills it), started from a JSON config file and ready once
 * it logs "gateway listening" with its HTTP address.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnManaged, type ManagedProcess } from './process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GatewayProcessOptions {
  readonly configPath: string;
  /**
   * The script to run, relative to the repository (default
   * `gateway/src/main.ts`, given `--config FILE`); another entry gets the file
   * as its only argument.
   */
  readonly entry?: string;
  /** Added to this process's environment. */
  readonly env?: Record<string, string>;
  readonly name?: string;
}

export interface GatewayProcess {
  readonly process: ManagedProcess;
  readonly httpUrl: string;
}

/** Starts the gateway; if it does not listen within 60 s, kills it and fails with its output. */
export async function spawnGateway(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const entry = options.entry ?? 'gateway/src/main.ts';
  const name = options.name ?? 'parley-gateway';
  const child = spawnManaged({
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      join(ROOT, entry),
      ...(options.entry ? [options.configPath] : ['--config', options.configPath]),
    ],
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    name,
  });
  let line: string;
  try {
    line = await child.waitForOutput(/"msg":"gateway listening"/, 60_000);
  } catch {
    await child.stop({ signal: 'SIGKILL' });
    throw new Error(`${name} did not start:\n${child.describe()}`);
  }
  return { process: child, httpUrl: (JSON.parse(line) as { httpUrl: string }).httpUrl };
}
