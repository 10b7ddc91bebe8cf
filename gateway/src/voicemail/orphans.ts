/**
 * Voicemail WAVs no row names any more, removed. They come from:
 * - a gateway that comes back after a survivor swept its rows as a retired
 *   gateway's (past retention, or deleted through the API elsewhere): the
 *   rows are gone, the files stayed on this disk. A deleted message must not
 *   keep its audio anywhere;
 * - a stop between a message's first samples and its row's insert (the file
 *   is opened as the recording starts, the row inserted right after): a WAV
 *   of a few milliseconds with no call, tenant queue or caller to show.
 * Only `<recordingsDir>/<tenant>/voicemail-<id>.wav` files are looked at, and
 * only those untouched for `minAgeMs` (a message being recorded is written
 * every second, and its row is inserted as it starts), by the file system's
 * clock. A store that cannot be read removes nothing.
 */
import type { Dirent } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VoicemailStore } from './store.js';

const VOICEMAIL_WAV = /^voicemail-([0-9A-Za-z-]{1,64})\.wav$/;

export interface OrphanSweep {
  /** Files removed. */
  readonly removed: number;
  /** Files looked at (named like a voicemail and old enough). */
  readonly checked: number;
}

/** Removes the voicemail WAVs under `dir` older than `minAgeMs` whose id has no row in `store`. */
export async function removeOrphanRecordings(
  dir: string,
  store: Pick<VoicemailStore, 'get'>,
  minAgeMs: number,
  now: () => number = Date.now,
): Promise<OrphanSweep> {
  let removed = 0;
  let checked = 0;
  for (const tenant of await entries(dir)) {
    if (!tenant.isDirectory()) continue;
    const folder = join(dir, tenant.name);
    for (const file of await entries(folder)) {
      const id = file.isFile() ? VOICEMAIL_WAV.exec(file.name)?.[1] : undefined;
      if (id === undefined) continue;
      const path = join(folder, file.name);
      const info = await stat(path).catch(() => undefined);
      if (!info || now() - info.mtimeMs < minAgeMs) continue;
      checked += 1;
      // A row marked for deletion reads as none: its file goes here, its row at the next sweep.
      if ((await store.get(id)) !== undefined) continue;
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return { removed, checked };
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
