/**
 * Small measuring tools of the WebRTC benchmark: percentiles, another
 * process's CPU and RSS from /proc, and a description of the machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles. */
export function summary(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number =>
    sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ??
    Number.NaN;
  return {
    n: sorted.length,
    p50: rank(50),
    p95: rank(95),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : Number.NaN,
  };
}

const TICKS = (() => {
  try {
    const t = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return t > 0 ? t : 100;
  } catch {
    return 100;
  }
})();

export interface ProcReading {
  /** performance.now(), ms. */
  readonly atMs: number;
  /** utime + stime of all threads, seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

/** utime+stime (fields 14, 15 of /proc/<pid>/stat) and VmRSS; undefined once the process is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces: count from the last ')'. fields[0] is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rssKb = Number(
      /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0,
    );
    return {
      atMs: performance.now(),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS,
      rssBytes: rssKb * 1024,
    };
  } catch {
    return undefined;
  }
}

/** The pids of `pid`'s descendants (a gateway's mediasoup workers), from /proc/<pid>/stat's ppid. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const child of parents.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/**
 * {@link readProc} of a process and its descendants, summed (the gateway and
 * its mediasoup workers are one system); the children are looked up once per
 * call, so pass `children` when reading often.
 */
export function readProcTree(pid: number, children = descendants(pid)): ProcReading | undefined {
  const root = readProc(pid);
  if (!root) return undefined;
  let cpuSeconds = root.cpuSeconds;
  let rssBytes = root.rssBytes;
  for (const child of children) {
    const r = readProc(child);
    if (!r) continue;
    cpuSeconds += r.cpuSeconds;
    rssBytes += r.rssBytes;
  }
  return { atMs: root.atMs, cpuSeconds, rssBytes };
}

/** Each process of a tree with its command name and RSS, for the report's memory breakdown. */
export function treeMemory(pid: number): { pid: number; name: string; rssBytes: number }[] {
  const out: { pid: number; name: string; rssBytes: number }[] = [];
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?';
      const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
      out.push({ pid: p, name, rssBytes: rssKb * 1024 });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

export interface Usage {
  readonly seconds: number;
  /** CPU time over wall time, % of one core. */
  readonly cpuPercent: number;
  readonly rssBytes: number;
}

/** CPU % between two readings, RSS at the second. */
export function usageBetween(a: ProcReading, b: ProcReading): Usage {
  const seconds = (b.atMs - a.atMs) / 1000;
  return {
    seconds,
    cpuPercent: seconds > 0 ? ((b.cpuSeconds - a.cpuSeconds) / seconds) * 100 : Number.NaN,
    rssBytes: b.rssBytes,
  };
}

/** Load average (1 min) now. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

export interface CpuTimes {
  /** user + nice + system: tasks. */
  readonly tasks: number;
  /** irq + softirq: e.g. loopback packet processing not charged to a task. */
  readonly interrupts: number;
  /** Time the hypervisor gave to other guests. */
  readonly steal: number;
  readonly total: number;
}

/** One CPU's times so far, from /proc/stat (clock ticks). */
export function cpuTimes(cpu: number): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (!line) return undefined;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      line.trim().split(/\s+/).slice(1).map(Number);
    return {
      tasks: user + nice + system,
      interrupts: irq + softirq,
      steal,
      total: user + nice + system + idle + iowait + irq + softirq + steal,
    };
  } catch {
    return undefined;
  }
}

/** The shares of a CPU over a window, in %. */
export function cpuShares(
  a: CpuTimes,
  b: CpuTimes,
): { tasks: number; interrupts: number; steal: number } {
  const total = b.total - a.total;
  const pct = (x: number): number => (total > 0 ? (x / total) * 100 : Number.NaN);
  return {
    tasks: pct(b.tasks - a.tasks),
    interrupts: pct(b.interrupts - a.interrupts),
    steal: pct(b.steal - a.steal),
  };
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memGiB: number;
  readonly node: string;
  readonly date: string;
  readonly loadAverage: number;
}

export function machine(): Machine {
  let cpu = 'unknown CPU';
  try {
    cpu =
      /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux.
  }
  let cores = availableParallelism();
  try {
    cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || cores;
  } catch {
    // No nproc.
  }
  return {
    cpu,
    cores,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: loadAverage(),
  };
}

export const ms = (x: number): string =>
  Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '–';
export const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/**
 * Datagrams the kernel dropped on UDP sockets (full receive buffer), from
 * /proc/net/udp's per-socket `drops` column, split into sockets whose local
 * port is inside `ranges` and all others. Only this network namespace's
 * sockets are listed, so inside scripts/in-netns.sh these are the run's own.
 */
export function udpDrops(ranges: readonly (readonly [number, number])[]): {
  inside: number;
  outside: number;
} {
  const out = { inside: 0, outside: 0 };
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const drops = Number(cols.at(-1));
      if (!local || !Number.isFinite(drops)) continue;
      const port = parseInt(local.split(':').at(-1) ?? '', 16);
      if (ranges.some(([a, b]) => port >= a && port <= b)) out.inside += drops;
      else out.outside += drops;
    }
  }
  return out;
}
