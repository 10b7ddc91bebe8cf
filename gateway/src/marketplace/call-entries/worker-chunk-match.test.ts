/**
 * Call entries matched on the worker thread (`WorkerChunkMatch`, a real
 * thread with its own connection to a SQLite file): the matcher's cases; a
 * batch answered byte for byte as in the gateway's thread; chunks matched in
 * order with the next one read meanwhile; a thread killed mid-batch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA } from '../../ledger/index.js';
import { openDatabase } from '../../storage/index.js';
import { SqliteImpressionStore } from '../impression-store.js';
import { MARKETPLACE_SCHEMA } from '../schema.js';
import { ingest, type BatchError, type BatchResult } from './ingest.js';
import { describeMatcher, matcherWorld, type MatcherWorld } from './matcher-cases.js';
import type { ChunkMatch, MatchThreshold } from './matcher.js';
import { readEntries, type SourceItem } from './sources.js';
import { SqliteChunkMatch } from './sqlite-chunk-match.js';
import { SqliteCallEntryStore } from './store.js';
import { WorkerChunkMatch } from './worker-chunk-match.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0);
const MIN = 60_000;
const time: MatchThreshold = { rule: 'time', windowSeconds: 30 * 60, minDurationSeconds: 0 };

const dir = mkdtempSync(join(tmpdir(), 'parley-entry-worker-'));
const toClose: (() => void)[] = [];
afterEach(() => {
  for (const close of toClose.splice(0)) close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A world on a fresh SQLite file, its chunks matched on a worker thread or in this one. */
function fileWorld(
  where: 'worker' | 'thread',
  chunkSize?: number,
): MatcherWorld & { worker: WorkerChunkMatch | undefined } {
  files += 1;
  const path = join(dir, `entries-${files}.sqlite`);
  const db = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const worker =
    where === 'worker'
      ? new WorkerChunkMatch({ path, cacheMb: 16 }, undefined, chunkSize)
      : undefined;
  const inThread = new SqliteChunkMatch(db);
  const sets: ChunkMatch = worker ?? {
    chunkSize,
    matchAndStore: (...args) => inThread.matchAndStore(...args),
  };
  toClose.push(() => {
    worker?.close();
    db.close();
  });
  const world = matcherWorld(new SqliteImpressionStore(db), new SqliteCallEntryStore(db), sets);
  return { ...world, worker };
}

describeMatcher('SQLite file, on the worker thread', async () => fileWorld('worker'));

/** 20 devices, 60 impressions of them a minute apart, each number its own. */
async function logImpressions(world: MatcherWorld): Promise<void> {
  for (let i = 0; i < 60; i += 1)
    await world.log(`im-${i}`, `dev-${i % 20}`, `+1415555${String(1000 + i)}`, T0 - i * MIN);
}

/** A CSV batch of `count` entries: matched, unknown devices, outside T, numbers dialled, ids repeated, bad rows. */
function csvBatch(count: number): string {
  const lines = ['id,deviceId,number,startedAt,durationSeconds,data.campaign'];
  for (let k = 0; k < count; k += 1) {
    const id = k % 13 === 12 ? `e-${k - 1}` : k % 29 === 0 ? `e-${k - 17}` : `e-${k}`;
    const device = k % 7 === 3 ? `nobody-${k}` : `dev-${k % 23}`;
    const start = T0 + (k % 11 === 5 ? 2 * 60 * MIN : (k % 40) * 10_000);
    const number = k % 5 === 0 ? `+1415555${String(1000 + (k % 60))}` : '';
    const startedAt = k % 31 === 30 ? '2025-02-30T10:00:00Z' : new Date(start).toISOString();
    lines.push(`${id},${device},${number},${startedAt},${k % 90},c${k % 3}`);
  }
  return `${lines.join('\n')}\n`;
}

async function runBatch(
  world: MatcherWorld,
  source: AsyncIterable<SourceItem>,
): Promise<{ results: BatchResult[]; error: BatchError | null }> {
  const results: BatchResult[] = [];
  const batch = ingest(source, {
    matcher: world.matcher,
    tenant: 'acme',
    threshold: time,
    now: () => T0 + 3 * 60 * MIN,
  });
  let step = await batch.next();
  while (!step.done) {
    results.push(step.value);
    step = await batch.next();
  }
  return { results, error: step.value.error };
}

const csv = (text: string) => readEntries(Readable.from([text]), 'csv');

describe('call entries on the worker thread (SQLite file)', () => {
  it('answers a batch byte for byte as the gateway’s thread does', async () => {
    const onWorker = fileWorld('worker', 64);
    const inThread = fileWorld('thread', 64);
    await logImpressions(onWorker);
    await logImpressions(inThread);
    const body = csvBatch(1000);
    const a = await runBatch(onWorker, csv(body));
    const b = await runBatch(inThread, csv(body));
    expect(a.error).toBeNull();
    expect(JSON.stringify(a.results)).toBe(JSON.stringify(b.results));
    const statuses = new Set(a.results.map((r) => r.status));
    expect([...statuses].sort()).toEqual(['duplicate', 'invalid', 'matched', 'unmatched']);
    // Sent again: every valid entry is a duplicate with the first outcome, on both paths.
    const again = await runBatch(onWorker, csv(body));
    const againInThread = await runBatch(inThread, csv(body));
    expect(JSON.stringify(again.results)).toBe(JSON.stringify(againInThread.results));
    expect(again.results.filter((r) => r.status !== 'invalid').map((r) => r.status)).toEqual(
      a.results.filter((r) => r.status !== 'invalid').map(() => 'duplicate'),
    );
  });

  it('matches chunk N+1 only after chunk N is stored, while reading it meanwhile: an id repeated across chunks is a duplicate', async () => {
    const world = fileWorld('worker', 4);
    await logImpressions(world);
    const ids = ['a', 'b', 'c', 'd', 'd', 'e', 'f', 'g', 'a', 'h', 'g', 'i'];
    let read = 0;
    let inFlight = 0;
    const readAtStart: number[] = [];
    const readAhead: number[] = [];
    const matcher = world.matcher;
    const processChunk = matcher.processChunk.bind(matcher);
    matcher.processChunk = async (...args) => {
      inFlight += 1;
      expect(inFlight).toBe(1);
      readAtStart.push(read);
      try {
        return await processChunk(...args);
      } finally {
        inFlight -= 1;
        readAhead.push(read);
      }
    };
    async function* source(): AsyncGenerator<SourceItem> {
      for (const [k, id] of ids.entries()) {
        read += 1;
        yield { kind: 'value', at: `entry ${k}`, value: entryValue(id, k) };
      }
    }
    const { results, error } = await runBatch(world, source());
    expect(error).toBeNull();
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['a', 'matched'],
      ['b', 'matched'],
      ['c', 'matched'],
      ['d', 'matched'],
      ['d', 'duplicate'],
      ['e', 'matched'],
      ['f', 'matched'],
      ['g', 'matched'],
      ['a', 'duplicate'],
      ['h', 'matched'],
      ['g', 'duplicate'],
      ['i', 'matched'],
    ]);
    expect(results[4]).toMatchObject({
      previous: {
        status: 'matched',
        impressionId: (results[3] as { impressionId: string }).impressionId,
      },
    });
    // Each chunk but the last came back after the whole next chunk had been read.
    expect(readAtStart).toEqual([4, 8, 12]);
    expect(readAhead).toEqual([8, 12, 12]);
  });

  it('answers entries_interrupted when the thread dies mid-batch, and the next batch starts another', async () => {
    const world = fileWorld('worker', 8);
    await logImpressions(world);
    const worker = world.worker as WorkerChunkMatch;
    const matchAndStore = worker.matchAndStore.bind(worker);
    let chunks = 0;
    worker.matchAndStore = (...args) => {
      chunks += 1;
      const outcomes = matchAndStore(...args);
      // The second chunk is on its way to the thread when it is killed.
      if (chunks === 2) void worker.kill();
      return outcomes;
    };
    const body = csvBatch(60);
    const first = await runBatch(world, csv(body));
    expect(first.error).toMatchObject({
      code: 'entries_interrupted',
      reason: expect.stringMatching(/worker thread stopped/),
    });
    // Answered: the chunks before the thread died, in order; stored: exactly those.
    const answered = first.results.filter(
      (r) => r.status === 'matched' || r.status === 'unmatched',
    );
    expect(first.results.length).toBeGreaterThanOrEqual(8);
    expect(first.results.length).toBeLessThan(60);
    expect(first.error?.at).toBe(`row ${first.results.length + 1}`);
    for (const r of answered) expect(await world.store.get('acme', r.id ?? '')).toBeDefined();
    const answeredIds = new Set(answered.map((r) => r.id));
    const rows = body.trim().split('\n').slice(1);
    const unanswered = rows.slice(first.results.length).map((row) => row.split(',')[0] ?? '');
    for (const id of unanswered.filter((id) => !answeredIds.has(id)))
      expect(await world.store.get('acme', id)).toBeUndefined();

    worker.matchAndStore = matchAndStore;
    const second = await runBatch(world, csv(body));
    expect(second.error).toBeNull();
    expect(second.results).toHaveLength(60);
    for (const r of answered)
      expect(second.results.find((s) => s.at === r.at)).toMatchObject({ status: 'duplicate' });
    // The rest matched now as they would have been then (the first occurrence of each id new).
    const news = second.results.filter(
      (r, i) => i >= first.results.length && r.status !== 'invalid' && !answeredIds.has(r.id),
    );
    expect(news.length).toBeGreaterThan(0);
    for (const r of news)
      if (second.results.findIndex((s) => s.id === r.id) === second.results.indexOf(r))
        expect(['matched', 'unmatched']).toContain(r.status);
  });

  it('refuses chunks once closed', async () => {
    const world = fileWorld('worker', 8);
    world.worker?.close();
    world.worker?.close();
    const { error } = await runBatch(world, csv(csvBatch(3)));
    expect(error).toMatchObject({ code: 'entries_interrupted', at: 'row 1' });
  });
});

function entryValue(id: string, k: number): Record<string, unknown> {
  return { id, deviceId: `dev-${k % 20}`, startedAt: T0 + 5_000 };
}
