#!/usr/bin/env -S node --import tsx
/**
 * parley-gateway [migrate | move] --config FILE
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
 *
 * `move` copies the rows the SQLite file keeps of the modules that are in
 * PostgreSQL with `storage.kind: postgres` (gated, callbacks) into
 * PostgreSQL, one transaction per module, says what it copied, and marks
 * the file so the gateway starts on it (`wiring/store-move.ts`). Run it
 * with the gateway stopped (the file is held for writing while it runs); a
 * second run moves nothing, or only the rows written to the file since.
 * A module whose rows PostgreSQL holds different is refused (exit 65): its
 * tables, key columns, counts and first keys on stderr, then as JSON.
 */
import { parseArgs } from 'node:util';
import { isParleyError } from '@parley/shared/errors';
import { loadConfig } from './config/index.js';
import { startGateway } from './gateway.js';
import { createLogger } from './observability/index.js';
import { moveSqliteRows } from './wiring/store-move.js';
import { openStores } from './wiring/stores.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
  });
  const command = positionals[0] ?? 'start';
  if (command !== 'start' && command !== 'migrate' && command !== 'move')
    throw new Error(`unknown command "${command}" (start, migrate or move)`);
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
  if (command === 'move') {
    const moves = await moveSqliteRows(config, createLogger(config.log.level), (line) =>
      process.stdout.write(`parley-gateway move: ${line}\n`),
    );
    process.stdout.write(
      `parley-gateway move: done (${moves.map((m) => `${m.module} ${m.skipped ? 'already moved' : 'moved'}`).join(', ')})\n`,
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
  if (isParleyError(error) && error.code === 'store_move_conflict') {
    process.stderr.write(`parley-gateway move: refused: ${error.detail ?? error.message}\n`);
    // The same, for a script: module, tables, key columns, counts and first keys.
    process.stderr.write(`parley-gateway move: ${JSON.stringify(error.toJSON())}\n`);
    process.exit(65); // EX_DATAERR
  }
  if (isParleyError(error) && error.code === 'store_move_busy') {
    process.stderr.write(`parley-gateway move: refused: ${error.detail ?? error.message}\n`);
    process.exit(75); // EX_TEMPFAIL
  }
  process.stderr.write(`parley-gateway: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
