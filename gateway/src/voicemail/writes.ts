/**
 * A voicemail's row writes while it is recorded (`voicemails.ts`), each with
 * what its failure means:
 * - the insert is waited for: a voicemail whose row could not be stored is
 *   ended (`voicemail_not_stored`: recording stopped, its WAV removed, the
 *   call ended, the result `failed`), never a file no row names;
 * - the end (`finish`) is tried again, bounded ({@link FINISH_RETRY_MS}), so
 *   a database blip does not leave the row `recording`. After the last try it
 *   is left to `interrupted.ts` (this gateway's next start, or a survivor of
 *   the cluster if this gateway dies);
 * - the transcript's parts (finals, a recogniser's error) go behind the call
 *   and a failure is logged: the record holds less text, the recording is whole.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { VoicemailTyped, VoicemailView } from '@parley/shared/protocol';
import type { Logger } from '../observability/index.js';
import type { NewVoicemail, VoicemailEnd, VoicemailRecord, VoicemailStore } from './store.js';
import { voicemailView } from './view.js';

/** Waits before each new try of a failed `finish` (about 5 s in all). */
export const FINISH_RETRY_MS: readonly number[] = [250, 1000, 4000];
/** After those: how often an end that still did not land is tried again. */
export const LATE_FINISH_MS = 30_000;

interface LateEnd {
  readonly end: VoicemailEnd;
  /** Publishes the end once it is stored. */
  readonly stored: () => Promise<void>;
}

/** What became of a message's end: see {@link VoicemailWrites.finish}. */
export type FinishOutcome = 'ended' | 'already' | 'failed';

export class VoicemailWrites {
  readonly #store: VoicemailStore;
  readonly #log: Logger;
  readonly #retryMs: readonly number[];
  readonly #lateMs: number;
  /** Ends whose every try failed, tried again every `lateMs` until they land. */
  readonly #late = new Map<string, LateEnd>();
  #lateTimer: NodeJS.Timeout | undefined;
  #retrying = false;
  #closed = false;

  constructor(deps: {
    store: VoicemailStore;
    logger: Logger;
    retryMs?: readonly number[];
    lateMs?: number;
  }) {
    this.#store = deps.store;
    this.#log = deps.logger;
    this.#retryMs = deps.retryMs ?? FINISH_RETRY_MS;
    this.#lateMs = deps.lateMs ?? LATE_FINISH_MS;
  }

  /**
   * An end whose every try failed (`finish` said `failed`) is kept here and
   * tried again every `lateMs` while this gateway runs, so the row does not
   * stay `recording` until a restart; `stored` runs once it lands (not when
   * someone else ended the row meanwhile). What is still here at `close` is
   * the next start's or a survivor's (`interrupted.ts`).
   */
  later(id: string, end: VoicemailEnd, stored: () => Promise<void>): void {
    this.#late.set(id, { end, stored });
    if (this.#closed) return;
    this.#lateTimer ??= setInterval(() => void this.retryLate(), this.#lateMs).unref();
  }

  /** Ends kept by {@link later} still waiting. */
  get lateCount(): number {
    return this.#late.size;
  }

  /** One pass over the kept ends (the timer's; a test may call it). */
  async retryLate(): Promise<void> {
    if (this.#retrying) return; // a pass on a slow database is still going
    this.#retrying = true;
    try {
      await this.#retryLate();
    } finally {
      this.#retrying = false;
    }
  }

  async #retryLate(): Promise<void> {
    for (const [id, { end, stored }] of [...this.#late]) {
      try {
        const ended = await this.#store.finish(id, end);
        this.#late.delete(id);
        if (ended) await stored();
      } catch (err) {
        this.#log.warn({ err, voicemailId: id }, 'voicemail end still not stored');
      }
    }
    if (this.#late.size === 0) this.#stopTimer();
  }

  /** Stops the late tries for good (what is left is ended by the next start or a survivor). */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#lateTimer);
    this.#lateTimer = undefined;
  }

  /** Stores a new voicemail's row: false (logged) when it could not be. */
  async insert(record: NewVoicemail): Promise<boolean> {
    try {
      await this.#store.insert(record);
      return true;
    } catch (err) {
      this.#log.error({ err, voicemailId: record.id }, 'voicemail row not stored: message ended');
      return false;
    }
  }

  /** A write behind the call (the store keeps one voicemail's writes in order): a failure is logged. */
  behind(id: string, write: Promise<void>): void {
    write.catch((err: unknown) =>
      this.#log.error({ err, voicemailId: id }, 'voicemail row not written'),
    );
  }

  /**
   * Ends the row, tried again after each wait of `retryMs` while the store
   * throws: `ended` once this end landed, `already` when the row had been
   * ended by someone else (a survivor that took this gateway for lost, a
   * start-up's sweep), `failed` when the last try failed too (the row stays
   * `recording`; logged). Only `ended` is this gateway's to publish.
   */
  async finish(id: string, end: VoicemailEnd): Promise<FinishOutcome> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return (await this.#store.finish(id, end)) ? 'ended' : 'already';
      } catch (err) {
        const wait = this.#retryMs[attempt];
        if (wait === undefined) {
          this.#log.error(
            { err, voicemailId: id, attempts: attempt + 1 },
            'voicemail end not stored: the row stays recording until it is ended as interrupted',
          );
          return 'failed';
        }
        this.#log.warn(
          { err, voicemailId: id, retryMs: wait },
          'voicemail end not stored: retried',
        );
        await sleep(wait);
      }
    }
  }

  /**
   * The stored voicemail with what the caller typed; the row as inserted
   * (`end` applied) when the store cannot be read, so the frame still goes.
   */
  async view(
    id: string,
    inserted: VoicemailRecord | undefined,
    typed: readonly VoicemailTyped[],
    end?: VoicemailEnd,
  ): Promise<VoicemailView> {
    const record = await this.#store.get(id).catch((err: unknown) => {
      this.#log.error({ err, voicemailId: id }, 'voicemail not read');
      return undefined;
    });
    const base = record ?? (inserted && ended(inserted, end));
    if (!base) throw new Error(`voicemail ${id} is not stored`);
    return { ...voicemailView(base, true), typed: [...typed] };
  }
}

/** The row as inserted, with its end (not stored, or not read back). */
export function ended(inserted: VoicemailRecord, end?: VoicemailEnd): VoicemailRecord {
  return {
    ...inserted,
    ...end,
    takenBy: end?.takenBy ?? null,
    takenAt: end?.takenAt ?? null,
  };
}
