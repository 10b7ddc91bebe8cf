/**
 * Voicemail retention (`voicemail.retentionDays`, docs/voicemail.md): a
 * sweeper deletes the messages older than that, the WAV and the row (its
 * transcript) together ({@link removeVoicemail}, the API's delete too). The
 * file goes first: a stop between the two leaves a row whose file is gone,
 * which the next sweep deletes, never a file no row names. A message still
 * being recorded is never touched. With the index shared (`storage.kind:
 * postgres`) each gateway sweeps the rows whose WAV it holds, and also
 * deletes those another gateway marked for deletion (a delete asked there);
 * and it sweeps the rows of retired gateways (their lease lapsed: `retired`),
 * which no one else would: their WAVs are on that gateway's disk (removed
 * here only when the path is on this disk too, a shared volume), so each such
 * delete leaves a tombstone for that gateway. Every sweep (the first at
 * start) also removes the files of this gateway's tombstones, then the
 * tombstones (`tombstones.ts`): a gateway that comes back removes the WAVs of
 * its rows deleted meanwhile. A file is never removed because no row names it.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from '../observability/index.js';
import type { VoicemailRecord, VoicemailStore } from './store.js';
import { TOMBSTONE_DAYS, removeTombstoned, type TombstoneSweepDeps } from './tombstones.js';

/**
 * Deletes a voicemail whose WAV is on this gateway: the file, then the row.
 * Throws (row and file kept) when the file could not be removed.
 */
export async function removeVoicemail(
  store: VoicemailStore,
  record: Pick<VoicemailRecord, 'id' | 'recordingPath'>,
): Promise<boolean> {
  if (record.recordingPath !== null) await rm(record.recordingPath, { force: true });
  return store.delete(record.id);
}

const DAY_MS = 86_400_000;
/** Rows per pass: a large backlog is worked off over passes, the event loop free between them. */
const BATCH = 200;

export interface RetentionDeps {
  readonly store: VoicemailStore;
  /** 0 keeps everything. */
  readonly retentionDays: number;
  readonly intervalMs: number;
  /** The gateways of the shared index whose lease lapsed (none without a cluster). */
  readonly retired?: (() => Promise<string[]>) | undefined;
  /** Shared index: this gateway's tombstones, its recordings directory (none on SQLite). */
  readonly tombstones?: Omit<TombstoneSweepDeps, 'logger'> | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class VoicemailRetention {
  readonly #deps: RetentionDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;
  #closed = false;

  constructor(deps: RetentionDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'voicemail-retention' });
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Sweeps now, then every `intervalMs`: with `retentionDays` 0 only the
   * deletions another gateway asked for (`shared`: the index is the cluster's).
   */
  start(shared = false): void {
    if ((this.#deps.retentionDays === 0 && !shared) || this.#closed) return;
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  /** Deletes what is past retention; resolves with how many voicemails went. One sweep at a time. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async #sweep(): Promise<number> {
    await this.#removeTombstoned();
    const { store, retentionDays } = this.#deps;
    // 0 keeps everything: only the rows marked for deletion go.
    const before = retentionDays === 0 ? 0 : this.#now() - retentionDays * DAY_MS;
    let deleted = 0;
    let retired: string[];
    try {
      retired = (await this.#deps.retired?.()) ?? [];
    } catch (error) {
      this.#log.warn({ err: error }, 'retired gateways not known: only this gateway’s rows swept');
      retired = [];
    }
    for (;;) {
      let batch: VoicemailRecord[];
      try {
        batch = await store.expired(before, BATCH, retired);
      } catch (error) {
        this.#log.error({ err: error }, 'voicemails past retention not read');
        return deleted;
      }
      for (const record of batch) {
        try {
          if (await removeVoicemail(store, record)) deleted += 1;
        } catch (error) {
          // Kept (row and file) and tried again next sweep: never a row gone with its file left.
          this.#log.error({ err: error, voicemailId: record.id }, 'voicemail not deleted');
          return deleted;
        }
      }
      if (batch.length < BATCH || this.#closed) break;
    }
    if (deleted > 0)
      this.#log.info(
        { deleted, retentionDays },
        'voicemails past retention or deleted elsewhere removed',
      );
    return deleted;
  }

  /** The files of rows another gateway deleted while this one was retired, then their tombstones. */
  async #removeTombstoned(): Promise<void> {
    const tombstones = this.#deps.tombstones;
    if (tombstones === undefined) return;
    try {
      await removeTombstoned({ ...tombstones, logger: this.#log });
      const expired = await tombstones.tombstones.expire(this.#now() - TOMBSTONE_DAYS * DAY_MS);
      if (expired > 0)
        this.#log.warn(
          { expired, days: TOMBSTONE_DAYS },
          'tombstones of gateways that never came back deleted: their files stay on those disks',
        );
    } catch (error) {
      // Their tombstones stay: tried again next sweep.
      this.#log.error({ err: error }, 'tombstoned voicemail files not removed');
    }
  }
}
