/**
 * Where a V8 CPU profile (`node --cpu-prof`) spent its busy time: self time
 * per function and per source area (a gateway module, an npm package, Node's
 * internals, GC), as shares of the samples that were not idle.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileShare {
  readonly name: string;
  /** Share of the busy samples, %. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly busySeconds: number;
  readonly functions: readonly ProfileShare[];
  readonly areas: readonly ProfileShare[];
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return `npm:${pkg[1]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const own = /\/((?:gateway|shared)\/src\/[^/]+)/.exec(url);
  return own?.[1] ?? url;
}

/** `skipSeconds`: leave out the profile's first seconds (start-up: module loading, compiling). */
export function summarizeCpuProfile(
  file: string,
  options: { top?: number; skipSeconds?: number } = {},
): ProfileSummary {
  const top = options.top ?? 15;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // Hits per node from the timed samples (after the skipped start), else the totals.
  const hitsOf = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let sampledMicros = 0;
  if (samples.length > 0 && deltas.length === samples.length) {
    const skip = (options.skipSeconds ?? 0) * 1e6;
    let at = 0;
    samples.forEach((id, i) => {
      const delta = deltas[i] ?? 0;
      at += delta;
      if (at < skip) return;
      sampledMicros += delta;
      hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
    });
  } else {
    for (const node of profile.nodes) hitsOf.set(node.id, node.hitCount ?? 0);
    sampledMicros = profile.endTime - profile.startTime;
  }
  const total = [...hitsOf.values()].reduce((a, b) => a + b, 0);
  const secondsPerSample = total > 0 ? sampledMicros / 1e6 / total : 0;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = hitsOf.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (hits === 0 || functionName === '(idle)') continue;
    busy += hits;
    const file = url.replace(/^.*\/(gateway|shared|node_modules)\//, '$1/');
    const name = url ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : functionName;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const shares = (map: Map<string, number>): ProfileShare[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({
        name,
        percent: Number(((hits / Math.max(1, busy)) * 100).toFixed(1)),
      }));
  return {
    busySeconds: Number((busy * secondsPerSample).toFixed(2)),
    functions: shares(byFunction),
    areas: shares(byArea),
  };
}
