/**
 * Retention on a real SQLite file and real WAV files: what is older than
 * `retentionDays` goes (row and file), the rest stays, a message being
 * recorded is never touched, and a row whose file is already gone is deleted.
 * A row another gateway marked for deletion goes too, with retention off.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { VoicemailRetention } from './retention.js';
import { base } from './store-contract.js';
import { SqliteVoicemailStore } from './sqlite-store.js';
import { VOICEMAIL_SCHEMA, type NewVoicemail } from './store.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 5, 12);

/** The store contract's voicemail (tenant acme, queue sales) as `id`, its WAV at `recordingPath`. */
const voicemail = (id: string, recordingPath: string | null, createdAt: number): NewVoicemail => ({
  ...base,
  id,
  callId: `call-${id}`,
  recordingPath,
  createdAt,
});

describe('VoicemailRetention', () => {
  it('deletes the rows and files past retention, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-vm-retention-'));
    const store = new SqliteVoicemailStore(
      openDatabase(join(dir, 'db.sqlite'), [VOICEMAIL_SCHEMA]),
    );
    const add = async (id: string, ageDays: number, file: boolean, ended = true) => {
      const path = join(dir, `voicemail-${id}.wav`);
      if (file) writeFileSync(path, Buffer.from('RIFF....WAVE'));
      const record = voicemail(id, path, NOW - ageDays * DAY);
      await store.insert(record);
      await store.addUtterance(id, { utterance: 0, text: 'call me back', startMs: 0, endMs: 500 });
      if (ended)
        await store.finish(id, {
          status: 'left',
          endedAt: record.createdAt,
          durationMs: 1,
          endReason: 'hangup',
        });
      return path;
    };
    const old = await add('old', 40, true);
    const older = await add('older', 400, true);
    const gone = await add('gone', 50, false);
    const recent = await add('recent', 10, true);
    const live = await add('live', 45, true, false);
    const retention = new VoicemailRetention({
      store,
      retentionDays: 30,
      intervalMs: 3_600_000,
      logger: createLogger('silent'),
      now: () => NOW,
    });
    expect(await retention.sweep()).toBe(3);
    for (const [id, path] of [
      ['old', old],
      ['older', older],
      ['gone', gone],
    ] as const) {
      expect(await store.get(id)).toBeUndefined();
      expect(existsSync(path)).toBe(false);
    }
    expect((await store.get('recent'))?.transcript).toBe('call me back');
    expect(existsSync(recent)).toBe(true);
    // Still being recorded: never deleted, however old.
    expect((await store.get('live'))?.status).toBe('recording');
    expect(existsSync(live)).toBe(true);
    expect(await retention.sweep()).toBe(0);
    retention.close();
  });

  it('keeps everything with retentionDays 0', async () => {
    const store = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]));
    const retention = new VoicemailRetention({
      store,
      retentionDays: 0,
      intervalMs: 1000,
      logger: createLogger('silent'),
      now: () => NOW,
    });
    expect(await retention.sweep()).toBe(0);
    retention.close();
  });
  it('deletes the file then the row of a voicemail marked for deletion, with retention off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-vm-retention-'));
    const store = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]), 'gw-a');
    const path = join(dir, 'voicemail-m.wav');
    writeFileSync(path, Buffer.from('RIFF....WAVE'));
    const record = voicemail('m', path, NOW - DAY);
    await store.insert(record);
    await store.finish('m', { status: 'left', endedAt: NOW, durationMs: 1, endReason: 'key' });
    await store.insert({ ...record, id: 'kept', recordingPath: null });
    await store.finish('kept', { status: 'left', endedAt: NOW, durationMs: 1, endReason: 'key' });
    expect(await store.requestDelete('m', NOW)).toBe(true);
    const retention = new VoicemailRetention({
      store,
      retentionDays: 0,
      intervalMs: 1000,
      logger: createLogger('silent'),
      now: () => NOW,
    });
    expect(await retention.sweep()).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(await store.expired(0, 10)).toEqual([]);
    expect((await store.get('kept'))?.id).toBe('kept');
    retention.close();
  });
});
