/**
 * Tombstones on a real PostgreSQL, with real WAV files: gateways A and B share
 * the voicemail index, each with its own recordings directory. A's voicemails
 * (rows as A's store writes them, WAVs in A's directory): one past
 * retention, one whose delete was asked on B (202: marked). While A holds its
 * lease B's sweep leaves them alone. A's lease lapses and A's disk goes with
 * it (its directory moved away: B cannot reach the files); B's sweep deletes
 * both rows (A is retired) and leaves a tombstone for each. A comes back (its
 * directory back, its retention started): the two WAVs go, then their
 * tombstones; a WAV no row and no tombstone names stays, and so does a file a
 * tombstone names outside A's directory (its tombstone kept).
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lapsedInstanceList } from '../../cluster/index.js';
import { createLogger } from '../../observability/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { VoicemailRetention } from '../retention.js';
import { base } from '../store-contract.js';
import { VOICEMAIL_PG_MIGRATIONS } from './pg-schema.js';
import { PgVoicemailStore } from './pg-store.js';
import { PgTombstones } from './pg-tombstones.js';

const pg = useTestPostgres('vm_tombstones');
const DAY = 86_400_000;
const NOW = Date.now();

describe('voicemail tombstones', () => {
  it("removes a returning gateway's WAVs whose rows another gateway deleted, and no other file", async () => {
    const pool = await pg.migrated([{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);
    const root = mkdtempSync(join(tmpdir(), 'parley-vm-tombstones-'));
    const dirA = join(root, 'a');
    const dirB = join(root, 'b');
    mkdirSync(join(dirA, 'acme'), { recursive: true });
    mkdirSync(dirB);
    const storeA = new PgVoicemailStore(pool, 'gw-a');
    const storeB = new PgVoicemailStore(pool, 'gw-b');
    const wav = (dir: string, name: string) => {
      const path = join(dir, name);
      writeFileSync(path, Buffer.from(`RIFF${name}WAVE`));
      return path;
    };
    /** A voicemail A recorded and ended, `ageDays` old, its WAV in A's directory. */
    const recordedOnA = async (id: string, ageDays: number) => {
      const path = wav(join(dirA, 'acme'), `voicemail-${id}.wav`);
      await storeA.insert({
        ...base,
        id,
        callId: `call-${id}`,
        recordingPath: path,
        createdAt: NOW - ageDays * DAY,
      });
      await storeA.finish(id, { status: 'left', endedAt: NOW, durationMs: 1, endReason: 'key' });
      return path;
    };
    const old = await recordedOnA('vm-old', 40);
    const asked = await recordedOnA('vm-asked', 1);
    const recent = await recordedOnA('vm-recent', 1);
    // Asked on B (the API's 202): marked for the gateway holding the WAV.
    expect(await storeB.requestDelete('vm-asked', NOW)).toBe(true);
    // No row, no tombstone: never removed on the basis of "no row found".
    const orphan = wav(join(dirA, 'acme'), 'voicemail-orphan.wav');
    // A tombstone of A's naming a file outside A's recordings directory.
    const outside = wav(root, 'not-a-recording.wav');
    await pool.query(
      `INSERT INTO vm_tombstones (id, gateway, recording_path, deleted_at)
       VALUES ('vm-outside', 'gw-a', $1, $2)`,
      [outside, NOW],
    );

    const leases = new Set(['gw-a', 'gw-b']);
    const retention = (store: PgVoicemailStore, recordingsDir: string) =>
      new VoicemailRetention({
        store,
        retentionDays: 30,
        intervalMs: 3_600_000,
        retired: async () =>
          lapsedInstanceList(await store.otherGateways(), async (gw) => leases.has(gw)),
        tombstones: { tombstones: new PgTombstones(pool, store.gateway), recordingsDir },
        logger: createLogger('silent'),
        now: () => NOW,
      });
    const tombstones = async () =>
      (
        await pool.query<{ id: string; gateway: string; recording_path: string }>(
          'SELECT id, gateway, recording_path FROM vm_tombstones ORDER BY id',
        )
      ).rows;
    const b = retention(storeB, dirB);
    // A holds its lease: its rows are its own to sweep.
    expect(await b.sweep()).toBe(0);
    expect(await tombstones()).toHaveLength(1);

    // A's lease lapses, and its disk is out of B's reach.
    leases.delete('gw-a');
    const away = join(root, 'a-away');
    renameSync(dirA, away);
    expect(await b.sweep()).toBe(2);
    const rows = await pool.query<{ id: string }>('SELECT id FROM vm_voicemails');
    expect(rows.rows.map((row) => row.id)).toEqual(['vm-recent']);
    expect(await tombstones()).toEqual([
      { id: 'vm-asked', gateway: 'gw-a', recording_path: asked },
      { id: 'vm-old', gateway: 'gw-a', recording_path: old },
      { id: 'vm-outside', gateway: 'gw-a', recording_path: outside },
    ]);
    // B's own sweep reads only B's tombstones: A's stay.
    expect(await b.sweep()).toBe(0);
    expect(await tombstones()).toHaveLength(3);
    b.close();

    // A comes back with its disk: its retention's first sweep, at start.
    renameSync(away, dirA);
    leases.add('gw-a');
    expect([old, asked, recent, orphan].every((path) => existsSync(path))).toBe(true);
    const a = retention(storeA, dirA);
    a.start(true);
    // The sweep started at start (one at a time: `sweep` gives the one running).
    expect(await a.sweep()).toBe(0);
    a.close();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(asked)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect((await storeA.get('vm-recent'))?.recordingPath).toBe(recent);
    expect(existsSync(orphan)).toBe(true);
    expect(existsSync(outside)).toBe(true);
    expect((await tombstones()).map((t) => t.id)).toEqual(['vm-outside']);
  });

  it('leaves no tombstone for a row deleted by the gateway holding its WAV', async () => {
    const pool = await pg.migrated([{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);
    const store = new PgVoicemailStore(pool, 'gw-a');
    await store.insert(base);
    await store.finish(base.id, { status: 'left', endedAt: 2000, durationMs: 1, endReason: 'key' });
    expect(await store.delete(base.id)).toBe(true);
    expect(await store.delete(base.id)).toBe(false);
    expect((await pool.query('SELECT 1 FROM vm_tombstones')).rowCount).toBe(0);
  });

  it('deletes the tombstones of a gateway that never came back once they are 90 days old', async () => {
    const pool = await pg.migrated([{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);
    for (const [id, age] of [
      ['vm-stale', 91],
      ['vm-fresh', 89],
    ] as const)
      await pool.query(
        `INSERT INTO vm_tombstones (id, gateway, recording_path, deleted_at)
         VALUES ($1, 'gw-gone', $2, $3)`,
        [id, `/var/lib/parley/acme/voicemail-${id}.wav`, NOW - age * DAY],
      );
    const store = new PgVoicemailStore(pool, 'gw-b');
    const retention = new VoicemailRetention({
      store,
      retentionDays: 30,
      intervalMs: 3_600_000,
      tombstones: {
        tombstones: new PgTombstones(pool, store.gateway),
        recordingsDir: mkdtempSync(join(tmpdir(), 'parley-vm-tombstones-')),
      },
      logger: createLogger('silent'),
      now: () => NOW,
    });
    await retention.sweep();
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM vm_tombstones');
    expect(rows.map((row) => row.id)).toEqual(['vm-fresh']);
  });
});
