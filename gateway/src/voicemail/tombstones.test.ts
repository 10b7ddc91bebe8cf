/**
 * The tombstone pass on real files (the tombstones in memory; on PostgreSQL:
 * `postgres/tombstones.postgres.test.ts`): a named file inside the recordings
 * directory goes, then its tombstone; one already gone clears its tombstone;
 * one that cannot be removed, or lies outside the directory (also through a
 * symbolic link), stays with its tombstone; past a page of tombstones all are
 * read.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { removeTombstoned, type TombstoneStore, type VoicemailTombstone } from './tombstones.js';

/** One gateway's tombstones, by id. */
class MemoryTombstones implements TombstoneStore {
  readonly byId = new Map<string, VoicemailTombstone>();

  add(id: string, recordingPath: string): void {
    this.byId.set(id, { id, recordingPath, deletedAt: 1 });
  }

  async mine(limit: number, after?: string): Promise<VoicemailTombstone[]> {
    return [...this.byId.values()]
      .filter((t) => after === undefined || t.id > after)
      .sort((x, y) => (x.id < y.id ? -1 : 1))
      .slice(0, limit);
  }

  async clear(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.byId.delete(id);
  }

  async expire(before: number): Promise<number> {
    const old = [...this.byId.values()].filter((t) => t.deletedAt < before);
    for (const t of old) this.byId.delete(t.id);
    return old.length;
  }
}

const wav = (path: string): string => {
  writeFileSync(path, Buffer.from('RIFF....WAVE'));
  return path;
};

describe('removeTombstoned', () => {
  it('removes the named files inside the recordings directory, then their tombstones; keeps the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'parley-vm-tombstone-'));
    const dir = join(root, 'recordings');
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(join(dir, 'acme'), { recursive: true });
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(dir, 'link'));
    const tombstones = new MemoryTombstones();
    const named = wav(join(dir, 'acme', 'voicemail-1.wav'));
    tombstones.add('vm-1', named);
    tombstones.add('vm-gone', join(dir, 'acme', 'voicemail-gone.wav'));
    // A directory where the file was: rm refuses it, the tombstone waits for the next sweep.
    mkdirSync(join(dir, 'acme', 'voicemail-dir.wav'));
    tombstones.add('vm-dir', join(dir, 'acme', 'voicemail-dir.wav'));
    const outside = wav(join(elsewhere, 'outside.wav'));
    tombstones.add('vm-outside', outside);
    // Inside by name, outside by the link it goes through.
    const linked = wav(join(elsewhere, 'linked.wav'));
    tombstones.add('vm-linked', join(dir, 'link', 'linked.wav'));
    const relative = wav(join(root, 'relative.wav'));
    tombstones.add('vm-dotdot', join(dir, '..', 'relative.wav'));
    const unnamed = wav(join(dir, 'acme', 'voicemail-unnamed.wav'));
    // Its folder is missing (the volume not mounted): the file may come back, the tombstone stays.
    tombstones.add('vm-unmounted', join(dir, 'unmounted', 'voicemail-2.wav'));
    const counted: number[] = [];

    const pass = await removeTombstoned({
      tombstones,
      recordingsDir: dir,
      logger: createLogger('silent'),
      removed: (count) => counted.push(count),
    });
    expect(pass).toEqual({ removed: 1, cleared: 2, kept: 5 });
    expect(counted).toEqual([1]);
    expect(existsSync(named)).toBe(false);
    for (const path of [outside, linked, relative, unnamed]) expect(existsSync(path)).toBe(true);
    expect([...tombstones.byId.keys()].sort()).toEqual([
      'vm-dir',
      'vm-dotdot',
      'vm-linked',
      'vm-outside',
      'vm-unmounted',
    ]);
  });

  it('reads every page of tombstones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-vm-tombstone-'));
    const tombstones = new MemoryTombstones();
    const paths: string[] = [];
    for (let i = 0; i < 250; i += 1) {
      const id = `vm-${String(i).padStart(3, '0')}`;
      const path = join(dir, `voicemail-${id}.wav`);
      if (i % 3 === 0) paths.push(wav(path));
      tombstones.add(id, path);
    }
    const pass = await removeTombstoned({
      tombstones,
      recordingsDir: dir,
      logger: createLogger('silent'),
    });
    expect(pass).toEqual({ removed: 84, cleared: 250, kept: 0 });
    expect(paths.filter((path) => existsSync(path))).toEqual([]);
    expect(tombstones.byId.size).toBe(0);
  });
});
