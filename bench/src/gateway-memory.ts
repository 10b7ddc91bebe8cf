/**
 * The idle gateway's memory (issue 15: RSS at 50 calls ≤ 2× Janus's): the
 * bench's gateway (bench-gateway.ts: its config, static agents, SQLite) started
 * as the WebRTC benchmark starts it, once per runtime asked for, left idle,
 * then read: RSS of each process of its tree (anonymous / file-backed), the
 * biggest mappings, V8's heap by space, the live heap after a full GC, and
 * with `--heap-snapshot` what the heap holds by kind and constructor.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/gateway-memory.ts \
 *       [--runtime dist,tsx] [--engine mediasoup|relay] [--settle-seconds 5]
 *       [--node-args "--max-semi-space-size=1"] [--env MALLOC_ARENA_MAX=2] [--heap-snapshot]
 *       [--scripts] [--without-inspector]
 *
 * `--scripts` lists the JavaScript the gateway has loaded, by package (the
 * inspector's Debugger.scriptParsed events), after the other readings.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { PortAllocator, stopAll } from '@parley/testkit';
import { heapSnapshotArgs, startBenchGateway, takeHeapSnapshot } from './bench-gateway.js';
import { GATEWAY_RUNTIMES, type GatewayRuntime } from './gateway-build.js';
import { descendants } from './webrtc/measure.js';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'dist,tsx' },
    engine: { type: 'string', default: 'mediasoup' },
    'settle-seconds': { type: 'string', default: '5' },
    'node-args': { type: 'string', default: '' },
    env: { type: 'string', multiple: true, default: [] },
    'heap-snapshot': { type: 'boolean', default: false },
    scripts: { type: 'boolean', default: false },
    'without-inspector': { type: 'boolean', default: false },
  },
});
const runtimes = (values.runtime ?? '')
  .split(',')
  .map((r) => r.trim())
  .filter((r): r is GatewayRuntime => (GATEWAY_RUNTIMES as readonly string[]).includes(r));
const engine = values.engine === 'relay' ? 'relay' : 'mediasoup';
const settleMs = Number(values['settle-seconds']) * 1000;
const nodeArgs = (values['node-args'] ?? '').split(' ').filter(Boolean);
const env = Object.fromEntries(
  (values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const MB = 2 ** 20;
const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ProcMemory {
  readonly pid: number;
  readonly name: string;
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly threads: number;
}

function procMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return {
      pid,
      name: /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?',
      rss: kb('VmRSS'),
      anon: kb('RssAnon'),
      file: kb('RssFile'),
      threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** RSS by mapping (file path, or [heap] / anonymous), biggest first. */
function topMappings(pid: number, count: number): [string, number][] {
  const sums = new Map<string, number>();
  let current = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = head[1] || 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sums.set(current, (sums.get(current) ?? 0) + Number(rss[1]) * 1024);
  }
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/** prom-client's V8 figures from /metrics (with their labels). */
async function v8Figures(httpUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m =
      /^parley_nodejs_(heap_[a-z_]+|external_memory_bytes)(\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
    if (m?.[1] && m[3]) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self sizes of a heap snapshot by node type, and objects by constructor. */
function summariseSnapshot(file: string): string[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const byType = new Map<string, number>();
  const byName = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType] ?? 0] ?? '?';
    const size = snap.nodes[i + iSize] ?? 0;
    total += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    const key =
      type === 'object' || type === 'closure' || type === 'array'
        ? `${type} ${(snap.strings[snap.nodes[i + iName] ?? 0] ?? '?').slice(0, 60)}`
        : type;
    byName.set(key, (byName.get(key) ?? 0) + size);
  }
  const single: [number, string][] = [];
  for (let i = 0; i < snap.nodes.length; i += width) {
    const size = snap.nodes[i + iSize] ?? 0;
    if (size < 100_000) continue;
    const type = types[snap.nodes[i + iType] ?? 0] ?? '?';
    const name = (snap.strings[snap.nodes[i + iName] ?? 0] ?? '?')
      .slice(0, 50)
      .replace(/\s+/g, ' ');
    single.push([size, `${type} "${name}"`]);
  }
  single.sort((a, b) => b[0] - a[0]);
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${mb(v)} MB ${k}`)
      .join('; ');
  return [
    `heap snapshot: ${mb(total)} MB in all`,
    `  by kind: ${top(byType, 12)}`,
    `  biggest: ${top(byName, 20)}`,
    `  biggest single (≥ 100 kB, ${single.length}): ${single
      .slice(0, 25)
      .map(([size, what]) => `${(size / 1000).toFixed(0)} kB ${what}`)
      .join('; ')}`,
  ];
}

/** The scripts the process at inspector `port` has parsed: characters and files by package. */
async function loadedScripts(port: number): Promise<string[]> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl?: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  const scripts = new Map<string, number>();
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to Debugger.enable')), 30_000);
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as {
          id?: number;
          method?: string;
          params?: { url?: string; length?: number };
        };
        if (m.method === 'Debugger.scriptParsed' && m.params?.url)
          scripts.set(m.params.url, m.params.length ?? 0);
        if (m.id === 1) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.send(JSON.stringify({ id: 1, method: 'Debugger.enable' }));
    });
  } finally {
    ws.close();
  }
  const byPackage = new Map<string, { chars: number; files: number }>();
  for (const [url, length] of scripts) {
    const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(
      url,
    )?.[1];
    const own = /\/(gateway|shared)\/(?:src|dist)\/([^/]+)/.exec(url);
    const key =
      pkg ?? (own ? `${own[1]}/${own[2]}` : url.startsWith('node:') ? 'node (built-in)' : 'other');
    const entry = byPackage.get(key) ?? { chars: 0, files: 0 };
    entry.chars += length;
    entry.files += 1;
    byPackage.set(key, entry);
  }
  return [...byPackage]
    .sort((a, b) => b[1].chars - a[1].chars)
    .map(([k, v]) => `${k} ${(v.chars / 1000).toFixed(0)} kB in ${v.files}`);
}

const dir = mkdtempSync(join(tmpdir(), 'parley-gateway-memory-'));
const ports = new PortAllocator();
const lines: string[] = [];
const say = (line: string): void => {
  lines.push(line);
  process.stderr.write(`${line}\n`);
};
try {
  say(
    `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; engine ${engine}; node args "${nodeArgs.join(' ')}"; env ${JSON.stringify(env)}`,
  );
  for (const runtime of runtimes) {
    const media = await ports.allocate(200, { protocols: ['udp'], even: true });
    const webrtc = await ports.allocate(100, { protocols: ['udp'], even: false });
    const snapDir = join(dir, `${runtime}-snapshots`);
    mkdirSync(join(dir, runtime), { recursive: true });
    const gw = await startBenchGateway({
      dir: join(dir, runtime),
      ports,
      agentContact: '127.0.0.1:9',
      agents: 10,
      maxCallsPerAgent: 10,
      media,
      webrtc,
      engine,
      runtime,
      inspect: !values['without-inspector'],
      nodeArgs: [...nodeArgs, ...(values['heap-snapshot'] ? heapSnapshotArgs(snapDir) : [])],
      env,
      onLine: (line) => process.stderr.write(`  gateway: ${line.slice(0, 300)}\n`),
    });
    try {
      await sleep(settleMs);
      const tree = () =>
        [gw.pid, ...descendants(gw.pid)]
          .map(procMemory)
          .filter((p): p is ProcMemory => p !== undefined);
      const show = (label: string, procs: ProcMemory[]) =>
        say(
          `${runtime} ${label}: ${mb(procs.reduce((s, p) => s + p.rss, 0))} MB in all — ${procs
            .map(
              (p) =>
                `${p.name} ${p.pid}: ${mb(p.rss)} MB (anon ${mb(p.anon)}, file ${mb(p.file)}, ${p.threads} threads)`,
            )
            .join('; ')}`,
        );
      show('idle', tree());
      const v8 = await v8Figures(gw.httpUrl);
      const spaces = [...v8]
        .filter(([k]) => k.startsWith('heap_space_size_used_bytes'))
        .map(([k, v]) => `${/space="([^"]+)"/.exec(k)?.[1] ?? k} ${mb(v)}`)
        .join(', ');
      say(
        `${runtime} V8: heap total ${mb(v8.get('heap_size_total_bytes') ?? NaN)} MB, used ${mb(v8.get('heap_size_used_bytes') ?? NaN)} MB, external ${mb(v8.get('external_memory_bytes') ?? NaN)} MB; used by space: ${spaces}`,
      );
      if (!values['without-inspector']) {
        const live = await gw.liveHeapBytes();
        say(`${runtime} live heap after a full GC: ${mb(live)} MB`);
        show('after the GC', tree());
      }
      say(
        `${runtime} biggest mappings of the Node process: ${topMappings(gw.pid, 10)
          .map(([k, v]) => `${k.split('/').slice(-2).join('/')} ${mb(v)}`)
          .join('; ')}`,
      );
      if (values.scripts && gw.inspectPort !== undefined)
        say(
          `${runtime} scripts loaded, by package: ${(await loadedScripts(gw.inspectPort)).join('; ')}`,
        );
      if (values['heap-snapshot']) {
        const file = await takeHeapSnapshot(gw, snapDir);
        if (file) for (const l of summariseSnapshot(file)) say(`${runtime} ${l}`);
      }
    } finally {
      await gw.stop();
      media.release();
      webrtc.release();
    }
  }
} finally {
  await stopAll();
  ports.close();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
