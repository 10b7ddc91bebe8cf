/**
 * The CPU time of a server and its children (the testkit's PostgreSQL: the
 * postmaster and its backends, each in a session of its own), from /proc:
 * each one's user and system time, and the children it reaped (a backend
 * that ended is counted in the postmaster's). Linux only; clock ticks of 10 ms.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICK_US = 10_000;

/** Microseconds of CPU used so far by process `root` and its children. */
export function treeCpu(root: number): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // Fields after the command (in parentheses, which may hold spaces): state is field 3, ppid 4.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(name) !== root && Number(f[1]) !== root) continue;
    // utime, stime, cutime, cstime: fields 14–17.
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks * TICK_US;
}
