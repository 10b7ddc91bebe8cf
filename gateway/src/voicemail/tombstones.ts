/**
 * Tombstones: the WAVs a gateway must remove because another gateway deleted
 * their rows. With the index shared (`storage.kind: postgres`) a retired
 * gateway's rows (its lease lapsed) are swept by another gateway, which
 * cannot reach the file on the retired one's disk; its delete leaves a
 * tombstone naming that gateway and the path (`postgres/pg-tombstones.ts`,
 * written with the row's delete). When the gateway comes back, its retention
 * (at start and each sweep) removes the files its tombstones name, then the
 * tombstones. A file is removed only on a tombstone's word, never because no
 * row names it, and only inside this gateway's recordings directory; one that
 * could not be removed keeps its tombstone for the next sweep, and so does
 * one whose folder is missing (a volume not mounted yet). Tombstones older
 * than {@link TOMBSTONE_DAYS} are deleted by any gateway's sweep: their
 * gateway is taken as gone for good. They name a gateway by its
 * `shared.instanceId`, which must stay the same across its restarts. On
 * SQLite (one gateway) every row is this gateway's and there are none.
 */
import { lstat, realpath, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Logger } from '../observability/index.js';

export interface VoicemailTombstone {
  /** The voicemail's id (its row is gone). */
  readonly id: string;
  readonly recordingPath: string;
  /** When the row was deleted (epoch ms). */
  readonly deletedAt: number;
}

/** The tombstones naming this gateway (`postgres/pg-tombstones.ts`). */
export interface TombstoneStore {
  /** Up to `limit` of them, by id, after `after` (the last id of the previous page). */
  mine(limit: number, after?: string): Promise<VoicemailTombstone[]>;
  /** Deletes these tombstones: their files are gone. */
  clear(ids: readonly string[]): Promise<void>;
  /** Deletes every gateway's tombstones older than `before` (epoch ms); resolves to how many. */
  expire(before: number): Promise<number>;
}

/**
 * How long a tombstone waits for its gateway: one that has not come back in
 * that time is taken as gone for good (decommissioned, or its
 * `shared.instanceId` changed), and any gateway's sweep deletes its
 * tombstones so the table does not grow for ever.
 */
export const TOMBSTONE_DAYS = 90;

export interface TombstoneSweepDeps {
  readonly tombstones: TombstoneStore;
  /** This gateway's recordings directory: a path outside it is never removed. */
  readonly recordingsDir: string;
  readonly logger: Logger;
  /** Counts the files removed (`parley_voicemail_tombstoned_files_removed_total`). */
  readonly removed?: ((count: number) => void) | undefined;
}

/** What one pass did: files removed, tombstones cleared (their file removed or gone already), kept. */
export interface TombstoneSweep {
  readonly removed: number;
  readonly cleared: number;
  readonly kept: number;
}

/** Tombstones per page. */
const PAGE = 200;

/**
 * Removes the files this gateway's tombstones name, then those tombstones; a
 * tombstone whose file could not be removed (an error, or a path outside the
 * recordings directory) is kept, logged, and tried again next sweep.
 */
export async function removeTombstoned(deps: TombstoneSweepDeps): Promise<TombstoneSweep> {
  const log = deps.logger;
  let removed = 0;
  let cleared = 0;
  let kept = 0;
  let unreachable = 0;
  let after: string | undefined;
  const dir = await realDir(deps.recordingsDir);
  for (;;) {
    const page = await deps.tombstones.mine(PAGE, after);
    const gone: string[] = [];
    for (const tombstone of page) {
      try {
        const outcome = await removeFile(tombstone.recordingPath, dir);
        if (outcome === 'unreachable') {
          // Its folder is not there (a volume not mounted yet?): kept until it is.
          kept += 1;
          unreachable += 1;
          continue;
        }
        if (outcome === 'outside') {
          kept += 1;
          log.warn(
            { voicemailId: tombstone.id, path: tombstone.recordingPath, recordingsDir: dir },
            'tombstoned voicemail file outside the recordings directory: not removed, tombstone kept',
          );
          continue;
        }
        if (outcome === 'removed') removed += 1;
        gone.push(tombstone.id);
      } catch (error) {
        kept += 1;
        log.error(
          { err: error, voicemailId: tombstone.id, path: tombstone.recordingPath },
          'tombstoned voicemail file not removed: tried again next sweep',
        );
      }
    }
    // The files first, then their tombstones: a stop between the two removes nothing twice.
    if (gone.length > 0) await deps.tombstones.clear(gone);
    cleared += gone.length;
    after = page.at(-1)?.id;
    if (page.length < PAGE) break;
  }
  if (removed > 0) deps.removed?.(removed);
  if (unreachable > 0)
    log.warn(
      { unreachable, recordingsDir: dir },
      'tombstoned voicemail files in folders that are not there: tombstones kept',
    );
  if (cleared > 0)
    log.info(
      { removed, cleared, kept },
      'voicemail files removed for rows deleted by another gateway',
    );
  return { removed, cleared, kept };
}

/**
 * Removes `path` when it is inside `dir` (a real path), by its parent's real
 * path (no symbolic link leads out). `gone`: no such file in a folder that is
 * there (removed already, or on a volume shared with the gateway that deleted
 * the row). `unreachable`: its folder is not there either (the recordings
 * volume not mounted): the file may come back, so its tombstone stays.
 */
async function removeFile(
  path: string,
  dir: string,
): Promise<'removed' | 'gone' | 'unreachable' | 'outside'> {
  const absolute = resolve(path);
  try {
    await lstat(absolute);
  } catch (error) {
    if (!isMissing(error)) throw error;
    return (await exists(dirname(absolute))) ? 'gone' : 'unreachable';
  }
  const real = join(await realpath(dirname(absolute)), basename(absolute));
  if (!inside(real, dir)) return 'outside';
  await rm(real, { force: true });
  return 'removed';
}

/** The recordings directory by its real path (links followed), as configured when it does not exist. */
async function realDir(dir: string): Promise<string> {
  const configured = resolve(dir);
  try {
    return await realpath(configured);
  } catch (error) {
    if (isMissing(error)) return configured;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** No such file: the path, or a directory on it, is not there. */
const isMissing = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};
