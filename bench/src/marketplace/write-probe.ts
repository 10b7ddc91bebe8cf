/**
 * What a call-entry import costs the gateway's thread beside it: a write on
 * the gateway's connection (as a call record is written) every 5 ms, each
 * timed (it waits while another connection, the entries' worker, holds the
 * file's write lock: `busy_timeout`), and the event loop's delay (a chunk
 * matched in the gateway's thread holds it).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SqliteDatabase } from '../../../gateway/src/storage/index.js';

export interface ProbeFigures {
  readonly writes: number;
  /** A write's wait, ms: median, 99th percentile, largest. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The event loop's delay, ms: 99th percentile, largest. */
  readonly loopP99: number;
  readonly loopMax: number;
}

export function startWriteProbe(db: SqliteDatabase): () => ProbeFigures {
  db.exec('CREATE TABLE IF NOT EXISTS bench_probe (at REAL NOT NULL)');
  const insert = db.prepare<[number]>('INSERT INTO bench_probe (at) VALUES (?)');
  const waits: number[] = [];
  const timer = setInterval(() => {
    const start = performance.now();
    insert.run(start);
    waits.push(performance.now() - start);
  }, 5);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  return () => {
    clearInterval(timer);
    loop.disable();
    waits.sort((a, b) => a - b);
    const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0;
    return {
      writes: waits.length,
      p50: at(0.5),
      p99: at(0.99),
      max: waits[waits.length - 1] ?? 0,
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
    };
  };
}

export const probeLine = (p: ProbeFigures): string =>
  `${p.writes} writes of the gateway's thread meanwhile, each waiting p50 ${p.p50.toFixed(2)} / p99 ${p.p99.toFixed(1)} / max ${p.max.toFixed(1)} ms; event loop delay p99 ${p.loopP99.toFixed(1)} / max ${p.loopMax.toFixed(1)} ms`;
