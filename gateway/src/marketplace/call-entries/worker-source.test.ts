/**
 * A body parsed on a thread of its own (`worker-source.ts`) gives the same
 * batch, answer for answer, as parsed in the gateway's thread (`sources.ts`):
 * CSV, NDJSON and JSON, bad rows, readers' errors, many messages and chunks;
 * and a thread that dies mid-batch ends the batch with `entries_interrupted`
 * after what it had sent is answered.
 */
import { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA } from '../../ledger/index.js';
import { openDatabase } from '../../storage/index.js';
import { SqliteImpressionStore } from '../impression-store.js';
import { MARKETPLACE_SCHEMA } from '../schema.js';
import { ingest, type BatchResult } from './ingest.js';
import { matcherWorld, type MatcherWorld } from './matcher-cases.js';
import { readEntries, type BodyFormat } from './sources.js';
import { SqliteChunkMatch } from './sqlite-chunk-match.js';
import { SqliteCallEntryStore } from './store.js';
import { readEntriesInThread } from './worker-source.js';

const NOW = Date.UTC(2025, 0, 15, 13, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** A fresh database, and the batch ingested from the body's pieces as a socket gives them. */
async function batch(
  world: MatcherWorld,
  pieces: readonly string[],
  format: BodyFormat,
  onThread?: (thread: Worker) => void,
) {
  async function* arriving(): AsyncGenerator<string> {
    for (const piece of pieces) {
      yield piece;
      await new Promise(setImmediate);
    }
  }
  const body = Readable.from(arriving());
  const source = onThread
    ? readEntriesInThread(body, format, { onThread })
    : readEntries(body, format);
  const results = ingest(source, {
    matcher: world.matcher,
    tenant: 'acme',
    threshold: { rule: 'time', windowSeconds: 3600, minDurationSeconds: 0 },
    now: () => NOW,
  });
  const answers: BatchResult[] = [];
  let step = await results.next();
  while (!step.done) {
    answers.push(step.value);
    step = await results.next();
  }
  return { answers, ...step.value };
}

const world = async (): Promise<MatcherWorld> => {
  const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const w = matcherWorld(
    new SqliteImpressionStore(db),
    new SqliteCallEntryStore(db),
    new SqliteChunkMatch(db),
  );
  for (let d = 0; d < 50; d += 1)
    await w.log(`im-${d}`, `dev-${d}`, `+1415555${1000 + d}`, NOW - 1_800_000);
  return w;
};

/** Both ways on two fresh databases: the same answers, summary and error. */
async function same(pieces: readonly string[], format: BodyFormat) {
  const inThread = await batch(await world(), pieces, format);
  const onThread = await batch(await world(), pieces, format, () => undefined);
  expect(JSON.stringify(onThread)).toBe(JSON.stringify(inThread));
  return inThread;
}

const split = (text: string, size: number) =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) =>
    text.slice(i * size, (i + 1) * size),
  );

// Each batch starts a thread, which loads the readers through tsx from the sources: seconds on a loaded machine.
describe('call entries parsed on a thread', { timeout: 60_000 }, () => {
  it('answers CSV the same: matched, bad rows, wrong cells, the clock, many chunks', async () => {
    const rows = ['id,deviceId,number,startedAt,durationSeconds,data.campaign'];
    for (let k = 0; k < 5000; k += 1)
      rows.push(
        `c${k % 4700},dev-${k % 60},,${iso(NOW - 60_000 * (k % 90))},${k % 400},"a, ${k % 3}"`,
      );
    rows.push(`late,dev-1,,${iso(NOW + 3_600_000)},-5,x`); // in the future, before the bad duration
    rows.push(`bad,dev-1,+1,${iso(NOW)},5,x`);
    rows.push('short,dev-1');
    rows.push(`"quoted ""id""",dev-2,,${NOW - 1000},12.5,`);
    const r = await same(split(`${rows.join('\n')}\n`, 7000), 'csv');
    expect(r.summary).toMatchObject({ received: 5004, duplicate: 300, invalid: 3 });
    expect(r.summary.matched).toBeGreaterThan(1000);
    expect(r.answers.find((a) => a.id === 'late')).toMatchObject({
      reason: 'startedAt: in the future',
    });
    expect(r.error).toBeNull();
  });

  it('stops at the same place on broken quoting and a bad header', async () => {
    const broken = await same(
      [
        `id,deviceId,startedAt\nq1,dev-1,${iso(NOW)}\nq2,"dev-1,${iso(NOW)}\nq3,dev-1,${iso(NOW)}\n`,
      ],
      'csv',
    );
    expect(broken.error?.reason).toMatch(/CSV .*Quote/);
    const header = await same([`id,device,startedAt\nz1,d,${iso(NOW)}\n`], 'csv');
    expect(header.error?.reason).toMatch(/unknown column "device"/);
  });

  it('answers NDJSON and JSON the same, and their errors', async () => {
    const values = Array.from({ length: 1200 }, (_, k) => ({
      id: `j${k}`,
      deviceId: `dev-${k % 70}`,
      startedAt: k % 2 ? iso(NOW - 1000 * k) : NOW - 1000 * k,
      ...(k % 5 === 0 ? { data: { n: k, nested: [1, { x: 'y' }] } } : {}),
      ...(k % 97 === 0 ? { colour: 'red' } : {}),
      ...(k % 89 === 0 ? { data: 'not an object' } : {}),
    }));
    const ndjson = `${values.map((v) => JSON.stringify(v)).join('\n')}\n{bad line\n\n`;
    await same(split(ndjson, 5000), 'ndjson');
    await same(split(JSON.stringify(values), 5000), 'json');
    const cut = await same([JSON.stringify(values).slice(0, 2000)], 'json');
    expect(cut.error?.reason).toMatch(/malformed JSON/);
    await same([JSON.stringify(values[1])], 'json');
    await same(['"neither"'], 'json');
  });

  it('ends the batch with entries_interrupted when the thread dies mid-batch', async () => {
    const rows = ['id,deviceId,startedAt'];
    for (let k = 0; k < 40_000; k += 1) rows.push(`k${k},dev-${k % 60},${iso(NOW - 1000)}`);
    let thread: Worker | undefined;
    const w = await world();
    const pieces = split(`${rows.join('\n')}\n`, 4096);
    async function* arriving(): AsyncGenerator<string> {
      for (const [i, piece] of pieces.entries()) {
        // Killed once a third of the body has been handed over (its first chunks answered or in flight).
        if (i === Math.floor(pieces.length / 3)) await thread?.terminate();
        yield piece;
        await new Promise(setImmediate);
      }
    }
    const results = ingest(
      readEntriesInThread(Readable.from(arriving()), 'csv', { onThread: (t) => (thread = t) }),
      {
        matcher: w.matcher,
        tenant: 'acme',
        threshold: { rule: 'time', windowSeconds: 3600, minDurationSeconds: 0 },
        now: () => NOW,
      },
    );
    let answered = 0;
    let step = await results.next();
    while (!step.done) {
      expect(step.value.at).toBe(`row ${(answered += 1)}`);
      step = await results.next();
    }
    expect(step.value.error).toMatchObject({
      code: 'entries_interrupted',
      reason: expect.stringMatching(/parsing thread stopped/),
    });
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(40_000);
    expect(step.value.summary.received).toBe(answered);
  });
});
