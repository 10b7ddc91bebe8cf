/**
 * What both voicemail benchmarks need around the gateway: this process on
 * CPU 1 (the gateway and its decoders get CPU 0), and a tight poll for a
 * condition (5 ms, so the waits do not blur the figures).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { which } from '../sipp-pinning.js';

/** Pins this process to CPU 1 when there are two and taskset exists; true if it did. */
export function pinToSecondCpu(): boolean {
  const two = cpus().length >= 2 && which('taskset') !== undefined;
  if (two) execFileSync('taskset', ['-pc', '1', String(process.pid)]);
  return two;
}

/** Resolves once `check()` holds; rejects naming `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
