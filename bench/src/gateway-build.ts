/**
 * How a benchmark runs the gateway's own process: `dist`, the production way
 * (gateway/package.json's `start` script: `node [flags]
 * --conditions=parley-dist gateway/dist/main.js`, the build of
 * scripts/build-gateway.sh, made here when it is missing or older than a
 * source), or `tsx` (the TypeScript sources through tsx's loader, as the tests
 * run it).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '@parley/testkit';

export type GatewayRuntime = 'dist' | 'tsx';
export const GATEWAY_RUNTIMES: readonly GatewayRuntime[] = ['dist', 'tsx'];

/**
 * Node's arguments before `--config FILE`, relative to the repository `root`:
 * for `dist`, those of gateway/package.json's `start` script (so the bench runs
 * the gateway with the flags a deployment gets), its paths under gateway/.
 */
export function gatewayEntryArgs(runtime: GatewayRuntime, root: string): string[] {
  if (runtime === 'tsx') return ['--import', 'tsx', 'gateway/src/main.ts'];
  const pkg = JSON.parse(readFileSync(join(root, 'gateway', 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const [command, ...args] = (pkg.scripts?.start ?? '').split(/\s+/).filter(Boolean);
  if (command !== 'node' || !args.includes('dist/main.js'))
    throw new Error(`gateway/package.json: the start script is not "node … dist/main.js"`);
  return args.map((arg) => (arg === 'dist/main.js' ? 'gateway/dist/main.js' : arg));
}

/** The newest modification time (ms) of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** True when `root`'s gateway/dist is missing or older than a source or a tsconfig.build.json. */
export function gatewayBuildStale(root: string): boolean {
  const stamp = join(root, 'gateway', 'dist', '.built');
  if (!existsSync(stamp) || !existsSync(join(root, 'shared', 'dist'))) return true;
  const built = statSync(stamp).mtimeMs;
  return (
    newestSource(join(root, 'gateway', 'src')) > built ||
    newestSource(join(root, 'shared', 'src')) > built ||
    ['gateway', 'shared'].some(
      (pkg) => statSync(join(root, pkg, 'tsconfig.build.json')).mtimeMs > built,
    )
  );
}

const building = new Map<string, Promise<void>>();

/** Builds `root`'s gateway (scripts/build-gateway.sh) if it is stale; once per process and root. */
export function ensureGatewayBuild(root: string, progress?: (line: string) => void): Promise<void> {
  let done = building.get(root);
  if (!done) {
    done = (async () => {
      if (!gatewayBuildStale(root)) return;
      progress?.('gateway/dist is missing or older than its sources: scripts/build-gateway.sh');
      const result = await runCommand(join(root, 'scripts', 'build-gateway.sh'), [], {
        cwd: root,
        timeoutMs: 600_000,
        allowFailure: true,
      });
      if (result.code !== 0)
        throw new Error(`scripts/build-gateway.sh failed:\n${result.stdout}\n${result.stderr}`);
    })();
    building.set(root, done);
  }
  return done;
}
