/**
 * Pins every sipp the testkit starts to one CPU. @parley/testkit spawns
 * `sipp` by name (found on PATH) and has no option for the binary or a command
 * prefix, so this puts a `sipp` shim first on this process's PATH (children
 * inherit it): `exec taskset -c <cpu> /usr/bin/sipp "$@"`. Both execs keep the
 * pid, so the testkit's signals and process groups still reach sipp itself.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    return found.startsWith('/') ? found : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the shim into `dir/bin` and puts that first on PATH. Returns the real sipp. */
export function pinSipp(dir: string, cpu: number): string {
  const sipp = which('sipp');
  if (!sipp)
    throw new Error(
      'sipp is not installed (sudo scripts/install-system-deps.sh installs sipp 3.6.1)',
    );
  const taskset = which('taskset');
  if (!taskset) throw new Error('taskset is not installed (Debian package util-linux)');
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const shim = join(bin, 'sipp');
  writeFileSync(shim, `#!/bin/sh\nexec ${taskset} -c ${cpu} ${sipp} "$@"\n`);
  chmodSync(shim, 0o755);
  process.env['PATH'] = `${bin}${delimiter}${process.env['PATH'] ?? ''}`;
  return sipp;
}
