import { beforeEach, describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA } from '../../ledger/index.js';
import { openDatabase } from '../../storage/index.js';
import { SqliteImpressionStore } from '../impression-store.js';
import type { Impression } from '../model.js';
import { MARKETPLACE_SCHEMA } from '../schema.js';
import { CallEntryMatcher, type MatchThreshold } from './matcher.js';
import { SqliteChunkMatch } from './sqlite-chunk-match.js';
import { SqliteCallEntryStore } from './store.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0);
const MIN = 60_000;

/** Both paths: the chunk matched as sets in SQLite, and row-wise (PostgreSQL's). */
const PATHS = ['sets', 'rows'] as const;
let path: (typeof PATHS)[number] = 'sets';

function world() {
  const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const impressions = new SqliteImpressionStore(db);
  const store = new SqliteCallEntryStore(db);
  const log = (id: string, deviceId: string, number: string | null, leaseStart: number) => {
    const i: Impression = {
      id,
      tenant: 'acme',
      placementId: `pl-${id}`,
      listingId: `ls-${id}`,
      advertiserId: 'ad',
      publisherId: 'pb',
      slot: 1,
      price: 100,
      bid: 100,
      quality: 1,
      deviceId,
      page: null,
      number,
      numberKind: number === null ? 'none' : 'leased',
      leaseStart,
      leaseEnd: leaseStart + 15 * MIN,
      createdAt: leaseStart,
    };
    impressions.logPlacement(
      {
        id: i.placementId,
        tenant: 'acme',
        publisherId: 'pb',
        category: 'c',
        region: '*',
        slots: 1,
        deviceId,
        page: null,
        decision: {},
        createdAt: leaseStart,
      },
      [i],
      '2025-01-15',
    );
  };
  const sets = path === 'sets' ? new SqliteChunkMatch(db) : undefined;
  return { matcher: new CallEntryMatcher(impressions, store, sets), log, store };
}

const entry = (
  id: string,
  deviceId: string,
  startedAt: number,
  extra: { number?: string; durationSeconds?: number } = {},
) => ({
  id,
  deviceId,
  number: extra.number,
  startedAt,
  durationSeconds: extra.durationSeconds,
  data: { from: 'carrier' },
});

const time: MatchThreshold = { rule: 'time', windowSeconds: 30 * 60, minDurationSeconds: 0 };

describe.each(PATHS)('CallEntryMatcher (S3), %s', (p) => {
  beforeEach(() => {
    path = p;
  });

  it('matches the device’s latest impression within T, through its virtual number', async () => {
    const { matcher, log, store } = world();
    log('old', 'dev-1', '+14155550101', T0 - 20 * MIN);
    log('new', 'dev-1', '+14155550102', T0 - 5 * MIN);
    const [r] = await matcher.processChunk('acme', [entry('e1', 'dev-1', T0)], time, T0);
    expect(r).toEqual({
      id: 'e1',
      status: 'matched',
      impressionId: 'new',
      listingId: 'ls-new',
      number: '+14155550102',
    });
    expect((await store.byImpression('new')).map((e) => [e.entryId, JSON.parse(e.data)])).toEqual([
      ['e1', { from: 'carrier' }],
    ]);
  });

  it('keeps only the impression that showed the number dialled, when the entry has one', async () => {
    const { matcher, log } = world();
    log('a', 'dev-1', '+14155550101', T0 - 20 * MIN);
    log('b', 'dev-1', '+14155550102', T0 - 5 * MIN);
    const [r, s] = await matcher.processChunk(
      'acme',
      [
        entry('e1', 'dev-1', T0, { number: '+14155550101' }),
        entry('e2', 'dev-1', T0, { number: '+14155550199' }),
      ],
      time,
      T0,
    );
    expect(r).toMatchObject({ status: 'matched', impressionId: 'a' });
    expect(s).toMatchObject({ status: 'unmatched', reason: 'number_mismatch' });
  });

  it('says no_device, and outside_threshold when the device was seen but longer than T ago', async () => {
    const { matcher, log } = world();
    log('a', 'dev-1', '+14155550101', T0 - 31 * MIN);
    const [r, s] = await matcher.processChunk(
      'acme',
      [entry('e1', 'dev-1', T0), entry('e2', 'dev-2', T0)],
      time,
      T0,
    );
    expect(r).toMatchObject({ status: 'unmatched', reason: 'outside_threshold' });
    expect(s).toMatchObject({ status: 'unmatched', reason: 'no_device' });
  });

  it('never matches an impression shown after the call started', async () => {
    const { matcher, log } = world();
    log('later', 'dev-1', '+14155550101', T0 + MIN);
    expect(
      (await matcher.processChunk('acme', [entry('e1', 'dev-1', T0)], time, T0))[0],
    ).toMatchObject({
      reason: 'no_device',
    });
  });

  it('tells, per entry of one chunk, a device seen before the window from one never seen before the call', async () => {
    const { matcher, log } = world();
    log('long-ago', 'dev-1', '+14155550101', T0 - 10 * 60 * MIN);
    log('recent', 'dev-2', '+14155550102', T0 - 2 * MIN);
    log('later', 'dev-4', '+14155550103', T0 - 3 * 60 * MIN);
    const results = await matcher.processChunk(
      'acme',
      [
        entry('e1', 'dev-1', T0), // seen 10 h before: before what the chunk read (from 6 h 30 before T0)
        entry('e2', 'dev-4', T0 - 6 * 60 * MIN), // the chunk read 'later', which came after this call
        entry('e3', 'dev-2', T0),
        entry('e4', 'dev-2', T0 - 3 * MIN), // 'recent' came after this call
        entry('e5', 'dev-3', T0),
        entry('e6', 'dev-2', T0 + 40 * MIN), // 'recent', read for e3, is 42 min before: outside T
        entry('e7', 'dev-4', T0 - 2 * 60 * MIN), // 'later' is an hour before: outside T
      ],
      time,
      T0 + 60 * MIN,
    );
    expect(results.map((r) => [r.id, r.status === 'unmatched' ? r.reason : r.status])).toEqual([
      ['e1', 'outside_threshold'],
      ['e2', 'no_device'],
      ['e3', 'matched'],
      ['e4', 'no_device'],
      ['e5', 'no_device'],
      ['e6', 'outside_threshold'],
      ['e7', 'outside_threshold'],
    ]);
    expect(results[2]).toMatchObject({ impressionId: 'recent', number: '+14155550102' });
  });

  it('applies the duration rules: D alone, T and D, T or D', async () => {
    const { matcher, log } = world();
    log('a', 'dev-1', '+14155550101', T0 - 40 * MIN);
    const rule = (r: MatchThreshold['rule']): MatchThreshold => ({
      rule: r,
      windowSeconds: 30 * 60,
      minDurationSeconds: 90,
    });
    const run = async (id: string, r: MatchThreshold['rule'], durationSeconds: number) =>
      (
        await matcher.processChunk(
          'acme',
          [entry(id, 'dev-1', T0, { durationSeconds })],
          rule(r),
          T0,
        )
      )[0]?.status;
    expect(await run('d1', 'duration', 120)).toBe('matched');
    expect(await run('d2', 'duration', 30)).toBe('unmatched');
    expect(await run('d3', 'time-and-duration', 120)).toBe('unmatched'); // 40 min > T
    expect(await run('d4', 'time-or-duration', 120)).toBe('matched');
    expect(await run('d5', 'time-or-duration', 30)).toBe('unmatched');
  });

  it('is idempotent by entry id: a repeat says duplicate and changes nothing', async () => {
    const { matcher, log, store } = world();
    log('a', 'dev-1', '+14155550101', T0 - MIN);
    const [first] = await matcher.processChunk('acme', [entry('e1', 'dev-1', T0)], time, T0);
    const [again, inBatch] = await matcher.processChunk(
      'acme',
      [{ ...entry('e1', 'dev-2', T0), data: { changed: true } }, entry('e1', 'dev-1', T0)],
      time,
      T0,
    );
    expect(first?.status).toBe('matched');
    expect(again).toEqual({
      id: 'e1',
      status: 'duplicate',
      previous: { status: 'matched', impressionId: 'a', reason: null },
    });
    expect(inBatch?.status).toBe('duplicate');
    expect((await store.get('acme', 'e1'))?.data).toBe(JSON.stringify({ from: 'carrier' }));
  });
});
