#!/usr/bin/env -S node --import tsx
/**
 * parley-gateway [migrate] --config FILE
 *
 * Reads the config file (or PARLEY_CONFIG), applies PARLEY_* environment
 * overrides, validates, starts. SIGTERM or SIGINT drains (no new calls,
 * OPTIONS answered 503, calls in progress get `drainTimeoutSeconds`); a second
 * signal stops at once (the calls left end with `gateway_shutdown`).
 *
 * `migrate` only brings the databases' schemas up to date (SQLite at
 * `storage.path`, and PostgreSQL with `storage.kind: postgres`) and exits 0:
 * run it once before a rolling upgrade, so no gateway of the cluster waits on
 * another's migrations at start. A gateway also migrates at start (the same
 * versions, under the same lock), so the command is never required.
 */
import { parseArgs } from 'node:util';
import { isParleyError } from '@parley/shared/errors';
import { loadConfig } from './config/index.js';
import { startGateway } from './gateway.js';
import { createLogger } from './observability/index.js';
import { openStores } from './wiring/stores.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
  });
  const command = positionals[0] ?? 'start';
  if (command !== 'start' && command !== 'migrate')
    throw new Error(`unknown command "${command}" (start or migrate)`);
  const file = values.config ?? process.env['PARLEY_CONFIG'];
  const config = loadConfig({ ...(file ? { file } : {}), env: process.env });
  if (command === 'migrate') {
    const logger = createLogger(config.log.level);
    const stores = await openStores(config, logger, Date.now, { migrateOnly: true });
    await stores.close();
    process.stdout.write(
      `parley-gateway: schemas up to date (${stores.kind === 'postgres' ? 'PostgreSQL and ' : ''}SQLite at ${config.storage.path})\n`,
    );
    return;
  }
  const gateway = await startGateway(config);
  let signals = 0;
  const stop = (signal: string) => {
    signals += 1;
    gateway.logger.info({ signal }, signals === 1 ? 'draining' : 'stopping now');
    const done = signals === 1 ? gateway.drain() : gateway.close();
    done.then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (isParleyError(error) && error.code === 'invalid_config') {
    process.stderr.write(`parley-gateway: invalid configuration:${error.detail ?? ''}\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`parley-gateway: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
