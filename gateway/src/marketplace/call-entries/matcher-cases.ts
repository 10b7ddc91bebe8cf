/**
 * The call-entry matcher's cases (S3), run on each store and path: SQLite
 * (`matcher.test.ts`) and PostgreSQL (`matcher.postgres.test.ts`), each
 * matching a chunk as a set (`ChunkMatch`) and row-wise.
 */
import { describe, expect, it } from 'vitest';
import type { ImpressionStore } from '../impression-store.js';
import type { Impression } from '../model.js';
import { MAX_LOG_ENTRIES, type ChunkMatch, type MatchThreshold } from './match-types.js';
import { CallEntryMatcher } from './matcher.js';
import type { CallEntryStore } from './store.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0);
const MIN = 60_000;

export interface MatcherWorld {
  readonly matcher: CallEntryMatcher;
  readonly store: CallEntryStore;
  /** Logs one impression of a one-slot placement. */
  log(id: string, deviceId: string, number: string | null, leaseStart: number): Promise<void>;
}

/** A world over one database's stores; `sets` given: the chunk matched as a set. */
export function matcherWorld(
  impressions: ImpressionStore,
  store: CallEntryStore,
  sets: ChunkMatch | undefined,
): MatcherWorld {
  const log = async (id: string, deviceId: string, number: string | null, leaseStart: number) => {
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
    await impressions.logPlacement(
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
  return { matcher: new CallEntryMatcher(impressions, store, sets), store, log };
}

export const entry = (
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

/** The matcher's cases on `world`'s stores (`name`: the database and the path). */
export function describeMatcher(name: string, world: () => Promise<MatcherWorld>): void {
  describe(`CallEntryMatcher (S3), ${name}`, () => {
    it('matches the device’s latest impression within T, through its virtual number', async () => {
      const { matcher, log, store } = await world();
      await log('old', 'dev-1', '+14155550101', T0 - 20 * MIN);
      await log('new', 'dev-1', '+14155550102', T0 - 5 * MIN);
      const [r] = await matcher.processChunk('acme', [entry('e1', 'dev-1', T0)], time, T0);
      expect(r).toEqual({
        id: 'e1',
        status: 'matched',
        impressionId: 'new',
        listingId: 'ls-new',
        number: '+14155550102',
      });
      expect((await store.byImpression('new')).map((e) => [e.entryId, JSON.parse(e.data)])).toEqual(
        [['e1', { from: 'carrier' }]],
      );
    });

    it('keeps only the impression that showed the number dialled, when the entry has one', async () => {
      const { matcher, log } = await world();
      await log('a', 'dev-1', '+14155550101', T0 - 20 * MIN);
      await log('b', 'dev-1', '+14155550102', T0 - 5 * MIN);
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
      const { matcher, log } = await world();
      await log('a', 'dev-1', '+14155550101', T0 - 31 * MIN);
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
      const { matcher, log } = await world();
      await log('later', 'dev-1', '+14155550101', T0 + MIN);
      expect(
        (await matcher.processChunk('acme', [entry('e1', 'dev-1', T0)], time, T0))[0],
      ).toMatchObject({
        reason: 'no_device',
      });
    });

    it('tells, per entry of one chunk, a device seen before the window from one never seen before the call', async () => {
      const { matcher, log } = await world();
      await log('long-ago', 'dev-1', '+14155550101', T0 - 10 * 60 * MIN);
      await log('recent', 'dev-2', '+14155550102', T0 - 2 * MIN);
      await log('later', 'dev-4', '+14155550103', T0 - 3 * 60 * MIN);
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

    it(`examines the newest ${MAX_LOG_ENTRIES} log entries of the device in each entry’s own window`, async () => {
      const { matcher, log } = await world();
      // 60 log entries of one device, 10 s apart, the newest at T0; each showed its own number.
      const number = (i: number) => `+1415555${String(1000 + i)}`;
      for (let i = 0; i < 60; i += 1) await log(`l${i}`, 'dev-1', number(i), T0 - i * 10_000);
      const results = await matcher.processChunk(
        'acme',
        [
          entry('newest', 'dev-1', T0), // l0
          entry('last-kept', 'dev-1', T0, { number: number(MAX_LOG_ENTRIES - 1) }),
          entry('one-too-old', 'dev-1', T0, { number: number(MAX_LOG_ENTRIES) }),
          // Its window holds l45…l59 only: all are examined, though the chunk's later
          // entries have the device's newest 50 (l0…l49) before them.
          entry('earlier', 'dev-1', T0 - 45 * 10_000, { number: number(55) }),
        ],
        time,
        T0,
      );
      expect(results.map((r) => [r.id, r.status === 'unmatched' ? r.reason : r.status])).toEqual([
        ['newest', 'matched'],
        ['last-kept', 'matched'],
        ['one-too-old', 'number_mismatch'],
        ['earlier', 'matched'],
      ]);
      expect(results.map((r) => (r.status === 'matched' ? r.impressionId : null))).toEqual([
        'l0',
        `l${MAX_LOG_ENTRIES - 1}`,
        null,
        'l55',
      ]);
    });

    it('applies the duration rules: D alone, T and D, T or D', async () => {
      const { matcher, log } = await world();
      await log('a', 'dev-1', '+14155550101', T0 - 40 * MIN);
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
      const { matcher, log, store } = await world();
      await log('a', 'dev-1', '+14155550101', T0 - MIN);
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
}
