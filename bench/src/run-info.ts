/**
 * What a benchmark's result line says about its run: the commit measured
 * and the machine (CPUs, model, load average), so a figure in
 * docs/benchmarks.md can be traced and compared.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

/** The short hash of HEAD in `repoRoot` ('unknown' outside a git checkout). */
export function gitCommit(repoRoot: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

/** "2 × <model>, load 0.5 0.7 1.2". */
export function machineLine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return `${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${load}`;
}
