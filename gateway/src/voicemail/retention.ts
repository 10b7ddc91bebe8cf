/**
 * Voicemail retention (`voicemail.retentionDays`, docs/voicemail.md): a
 * sweeper deletes the messages older than that, the WAV and the row (its
 * transcript) together. The file goes first: a stop between the two leaves
 * a row whose file is gone, which the next sweep deletes, never a file no
 * row names. A message still being recorded is never touched.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from '../observability/index.js';
import type { VoicemailStore } from './store.js';

const DAY_MS = 86_400_000;
/** Rows per pass: a large backlog is worked off over passes, the event loop free between them. */
const BATCH = 200;

export interface RetentionDeps {
  readonly store: VoicemailStore;
  /** 0 keeps everything. */
  readonly retentionDays: number;
  readonly intervalMs: number;
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

  /** Sweeps now, then every `intervalMs` (nothing with `retentionDays` 0). */
  start(): void {
    if (this.#deps.retentionDays === 0 || this.#closed) return;
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
    const { store, retentionDays } = this.#deps;
    if (retentionDays === 0) return 0;
    const before = this.#now() - retentionDays * DAY_MS;
    let deleted = 0;
    for (;;) {
      const batch = store.expired(before, BATCH);
      for (const record of batch) {
        try {
          if (record.recordingPath !== null) await rm(record.recordingPath, { force: true });
        } catch (error) {
          // Kept (row and file) and tried again next sweep: never a row gone with its file left.
          this.#log.error({ err: error, voicemailId: record.id }, 'voicemail file not deleted');
          return deleted;
        }
        store.delete(record.id);
        deleted += 1;
      }
      if (batch.length < BATCH || this.#closed) break;
    }
    if (deleted > 0)
      this.#log.info({ deleted, retentionDays }, 'voicemails past retention deleted');
    return deleted;
  }
}
