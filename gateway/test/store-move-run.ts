/**
 * `parley-gateway move` and `migrate` run as the operator runs them (a child
 * process on the gateway's sources), for the move's tests on PostgreSQL.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const entry = ['--import', 'tsx', 'gateway/src/main.ts'];
const env = { ...process.env, PARLEY_LOG_LEVEL: 'warn' };

/** `parley-gateway <command> -c <config>`, to its end; rejects on a non-zero exit. */
export function gatewayCommand(
  command: 'move' | 'migrate',
  config: string,
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [...entry, command, '-c', config], { env, timeout: 120_000 });
}

/**
 * A move SIGKILLed while it waits for `table`, held locked by another
 * PostgreSQL transaction, once its output shows `reached` (the modules before
 * it committed); the lock is let go after the kill. Returns what it printed.
 */
export async function moveKilledAt(
  url: string,
  config: string,
  table: string,
  reached: string,
): Promise<string> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  const child = spawn(process.execPath, [...entry, 'move', '-c', config], { env });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(reached)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`move exited ${code}: ${out}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
  return out;
}
