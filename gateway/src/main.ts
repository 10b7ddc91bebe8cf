#!/usr/bin/env -S node --import tsx
/**
 * parley-gateway --config FILE
 *
 * Reads the config file (or PARLEY_CONFIG), applies PARLEY_* environment
 * overrides, validates, starts. SIGTERM or SIGINT drains (no new calls,
 * OPTIONS answered 503, calls in progress get `drainTimeoutSeconds`); a second
 * signal stops at once (the calls left end with `gateway_shutdown`).
 */
import { parseArgs } from 'node:util';
import { isParleyError } from '@parley/shared/errors';
import { loadConfig } from './config/index.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  const file = values.config ?? process.env['PARLEY_CONFIG'];
  const config = loadConfig({ ...(file ? { file } : {}), env: process.env });
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
