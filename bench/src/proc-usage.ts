/**
 * CPU and memory of another process, from /proc (Linux): `process.cpuUsage()`
 * only knows the calling process. A sampler reads utime+stime (field 14 and 15
 * of /proc/<pid>/stat, in clock ticks) and VmRSS every `intervalMs`; windows
 * of those samples give CPU % of one core and RSS over any stretch of a run.
 * /proc/<pid>/schedstat adds how long the main thread (the event loop) was
 * ready to run but waited for its CPU: on a shared machine, other processes'
 * share of the core.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  /** performance.now() when read, ms. */
  readonly atMs: number;
  /** utime + stime, seconds. */
  readonly cpuSeconds: number;
  /** Resident set, bytes. */
  readonly rssBytes: number;
  /** Main thread's time runnable but not running (schedstat), seconds. */
  readonly runWaitSeconds: number;
}

export interface UsageWindow {
  readonly seconds: number;
  /** CPU time over wall time, in % of one core. */
  readonly cpuPercent: number;
  readonly cpuSeconds: number;
  /** Highest CPU % over any stretch of about one second inside the window. */
  readonly peakCpuPercent: number;
  readonly rssMeanBytes: number;
  readonly rssMaxBytes: number;
  /** Main thread's run-queue wait over wall time, %: CPU taken by others. */
  readonly runWaitPercent: number;
}

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const TICKS = clockTicksPerSecond();

/** One reading of `pid`; undefined once the process is gone. */
export function readProcSample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
    let waitNs = 0;
    try {
      waitNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0);
    } catch {
      // No schedstat (kernel without CONFIG_SCHEDSTATS): report 0.
    }
    return {
      atMs: performance.now(),
      cpuSeconds: (utime + stime) / TICKS,
      rssBytes: rssKb * 1024,
      runWaitSeconds: waitNs / 1e9,
    };
  } catch {
    return undefined;
  }
}

export class ProcSampler {
  readonly #pid: number;
  readonly #samples: ProcSample[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** Takes a reading now (also done every interval) and returns it. */
  sample(): ProcSample | undefined {
    const s = readProcSample(this.#pid);
    if (s) this.#samples.push(s);
    return s;
  }

  latest(): ProcSample | undefined {
    return this.#samples[this.#samples.length - 1];
  }

  /** Usage between two performance.now() marks (the samples nearest inside them). */
  window(fromMs: number, toMs: number): UsageWindow | undefined {
    const inside = this.#samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs);
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (!first || !last || last.atMs - first.atMs < 100) return undefined;
    const seconds = (last.atMs - first.atMs) / 1000;
    const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
    let peak = 0;
    let j = 0;
    for (let i = 0; i < inside.length; i += 1) {
      const end = inside[i];
      if (!end) continue;
      while (j < i && end.atMs - (inside[j + 1]?.atMs ?? end.atMs) >= 1000) j += 1;
      const start = inside[j];
      if (!start || end.atMs - start.atMs < 900) continue;
      peak = Math.max(
        peak,
        ((end.cpuSeconds - start.cpuSeconds) / ((end.atMs - start.atMs) / 1000)) * 100,
      );
    }
    const rss = inside.map((s) => s.rssBytes);
    return {
      seconds,
      cpuPercent: (cpuSeconds / seconds) * 100,
      cpuSeconds,
      peakCpuPercent: peak,
      rssMeanBytes: rss.reduce((a, b) => a + b, 0) / rss.length,
      rssMaxBytes: Math.max(...rss),
      runWaitPercent: ((last.runWaitSeconds - first.runWaitSeconds) / seconds) * 100,
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Datagrams the kernel dropped for the UDP sockets bound to `port` on
 * 127.0.0.1 (the `drops` column of /proc/net/udp: a full receive buffer).
 */
export function udpDrops(port: number): number {
  try {
    const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    let drops = 0;
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === hex) drops += Number(cols[cols.length - 1] ?? 0) || 0;
    }
    return drops;
  } catch {
    return 0;
  }
}
