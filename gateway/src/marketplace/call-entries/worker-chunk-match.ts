/**
 * Call entries matched on a worker thread, on SQLite files: the chunk's
 * transaction (`SqliteChunkTransaction`) runs on its own connection to the
 * same file (`entry-worker.ts`) while the gateway's thread reads and checks
 * the batch's next chunk (`ingest.ts` keeps one in flight) and goes on with
 * calls: a 2,048-entry chunk held the gateway's event loop ~35 ms in its
 * thread. Chunks and answers travel as flat arrays (one structured clone a
 * chunk). Owned by the marketplace (closed with it); the thread is started on
 * the first chunk, and again on the next chunk after one died, whose pending
 * chunks are rejected with `entries_interrupted` (their transactions rolled
 * back; the chunks committed before stay, idempotent by entry id).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ParleyError } from '@parley/shared/errors';
import type { Logger } from '../../observability/index.js';
import type { CallEntry } from './entry.js';
import type { ChunkMatch, ChunkOutcome, MatchThreshold } from './matcher.js';
import { entryRows, outcomesOf, type EntryRows, type OutcomeRows } from './sqlite-chunk-match.js';

/** What the thread is started with. */
export interface EntryWorkerData {
  readonly path: string;
  readonly cacheMb: number;
}

/** A chunk to match: the entries (ids distinct) as `entryRows` gives them. */
export interface ChunkRequest {
  readonly id: number;
  readonly tenant: string;
  readonly threshold: MatchThreshold;
  readonly now: number;
  readonly rows: EntryRows;
}

export type ChunkReply =
  | { readonly id: number; readonly outcomes: OutcomeRows }
  | { readonly id: number; readonly error: string };

/**
 * The worker's module beside this one. From the build (`gateway/dist`) it is
 * `entry-worker.js`, the thread inheriting the process's options (such as
 * `--conditions=parley-dist`). From the sources (tsx, Vitest) it is
 * `entry-worker.ts`, which a thread cannot load by itself: Vitest's transform
 * stays in its own thread, and Node 20 does not run the module hooks that
 * `--import tsx` registers in worker threads (fixed in Node 22); so a two-line
 * script registers tsx's `require` hook (in the thread, synchronous) and
 * requires it.
 */
function startThread(data: EntryWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./entry-worker.js', import.meta.url), { workerData: data });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./entry-worker.ts', import.meta.url));
  return new Worker(
    `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`,
    { eval: true, workerData: data },
  );
}

/**
 * Entries a chunk on the worker. Its write transaction holds the file's write
 * lock that long, and a write of the gateway's thread (a call record) waits
 * for it (SQLite's busy handler, sleeping 1, 2, 5, 10… ms between tries).
 * Measured on the shared 2-core machine, 1,000,000 impressions, CSV
 * (docs/benchmarks.md): 2,048 → 13,571/s, 1,024 → 14,252/s, 512 → 9,267/s,
 * 256 → 8,627/s under load 5-9; 1,024 is about 16 ms of transaction on a
 * quiet machine (2,048 about 32), above the 10 ms aimed at, but 512 cost a
 * third of the rate.
 */
export const WORKER_CHUNK = 1024;

interface Pending {
  resolve(outcomes: OutcomeRows): void;
  reject(error: Error): void;
}

export class WorkerChunkMatch implements ChunkMatch {
  readonly chunkSize: number;
  readonly #data: EntryWorkerData;
  readonly #log: Logger | undefined;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #next = 0;
  #closed = false;

  constructor(data: EntryWorkerData, log?: Logger, chunkSize = WORKER_CHUNK) {
    this.#data = data;
    this.chunkSize = chunkSize;
    this.#log = log;
  }

  async matchAndStore(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkOutcome[]> {
    if (entries.length === 0) return [];
    if (this.#closed) throw new ParleyError('entries_interrupted', 'the gateway is closing');
    const worker = this.#worker ?? this.#start();
    const id = (this.#next += 1);
    const request: ChunkRequest = {
      id,
      tenant,
      threshold: t,
      now,
      rows: entryRows(entries),
    };
    const outcomes = await new Promise<OutcomeRows>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A chunk in flight keeps the process up; an idle thread does not.
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage(request);
    });
    return outcomesOf(outcomes);
  }

  /**
   * Ends the thread as a crash would, the object staying open (tests): its
   * chunks in flight are rejected, the next chunk starts another thread.
   */
  async kill(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Stops the thread (a chunk in flight is rolled back and rejected). Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    this.#died(worker, new Error('the gateway is closing'));
    void worker.terminate();
  }

  #start(): Worker {
    const worker = startThread(this.#data);
    worker.on('message', (reply: ChunkReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if ('outcomes' in reply) pending.resolve(reply.outcomes);
      else
        pending.reject(
          new ParleyError('entries_interrupted', `the database refused the chunk: ${reply.error}`),
        );
    });
    worker.on('error', (error) => this.#died(worker, error));
    worker.on('exit', (code) => this.#died(worker, new Error(`it exited with code ${code}`)));
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** The thread is gone: its chunks in flight are rejected, and the next chunk starts another. */
  #died(worker: Worker, cause: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const error = new ParleyError(
      'entries_interrupted',
      `the call entries' worker thread stopped (${cause.message})`,
      { cause },
    );
    if (!this.#closed || this.#pending.size > 0)
      this.#log?.warn(
        { err: cause, chunks: this.#pending.size },
        "call entries' worker thread stopped",
      );
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
