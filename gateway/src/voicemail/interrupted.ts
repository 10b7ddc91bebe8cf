/**
 * Voicemails whose gateway stopped without ending them (killed, its machine
 * gone): each row still `recording` is ended `left`, with what was written
 * kept (the WAV up to its last second, the finals stored, a transcriber's
 * error), and its `voicemail-ended` event is published like any other's, so
 * the desks stop showing it live and the company's webhook hears of it.
 * The same path serves both cases (as `calls/interrupted.ts` does for call
 * records):
 * - at start, a gateway ends its own previous run's rows: `interrupted`;
 * - in a cluster, the lost-gateway sweeper (`cluster/lost-gateways.ts`) ends
 *   a dead gateway's rows once its lease lapsed: `gateway_lost`.
 * Each row is ended once however many survivors sweep together: `finish`
 * only changes a row still `recording`, and only the one that changed it
 * publishes.
 */
import { open } from 'node:fs/promises';
import type { VoicemailEvent, VoicemailTyped, VoicemailView } from '@parley/shared/protocol';
import { parseWavHeader } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { VoicemailEnd, VoicemailRecord, VoicemailStore } from './store.js';
import { voicemailView } from './view.js';

/** Why a row was ended for a gateway that could not: its own restart, or a survivor. */
export type VoicemailInterruption = 'interrupted' | 'gateway_lost';

export interface InterruptedDeps {
  readonly store: VoicemailStore;
  /** The live stream (desks, `/live`, webhooks): gets each `voicemail-ended`. */
  readonly publish: (event: VoicemailEvent) => void;
  /** What the caller typed on the call (the inbox's read of the messages store). */
  readonly typed: (view: VoicemailView) => Promise<VoicemailTyped[]>;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Ends the rows `owner` left `recording`; resolves with how many this gateway ended. */
export async function endInterrupted(
  deps: InterruptedDeps,
  owner: string,
  reason: VoicemailInterruption,
): Promise<number> {
  const { store } = deps;
  let ended = 0;
  for (const record of await store.open(owner)) {
    const end: VoicemailEnd = {
      status: 'left',
      endedAt: deps.now(),
      durationMs: await recordedMs(record, store.gateway),
      endReason: reason,
    };
    // Ended meanwhile (another survivor, or its own gateway back): that one published.
    if (!(await store.finish(record.id, end))) continue;
    ended += 1;
    const view = voicemailView({ ...record, ...end }, true);
    deps.publish({
      type: 'voicemail-ended',
      voicemail: { ...view, typed: await deps.typed(view) },
    });
  }
  if (ended > 0)
    deps.logger.warn(
      { voicemails: ended, instance: owner, reason },
      reason === 'interrupted'
        ? 'ended the voicemails the last stop interrupted'
        : 'ended the voicemails of a gateway whose lease lapsed',
    );
  return ended;
}

/**
 * How much was recorded: the WAV's length when the file is on this disk (it
 * is valid up to about its last second, `media/apps/wav-writer.ts`), else the
 * end of the last word recognised (a lower bound: the file is on the lost
 * gateway's disk).
 */
async function recordedMs(record: VoicemailRecord, here: string): Promise<number> {
  const lastWord = Math.max(0, ...record.utterances.map((u) => u.endMs));
  if (record.recordingPath === null || record.gateway !== here) return lastWord;
  try {
    const file = await open(record.recordingPath, 'r');
    try {
      const head = Buffer.alloc(4096);
      const { bytesRead } = await file.read(head, 0, head.length, 0);
      const format = parseWavHeader(head.subarray(0, bytesRead));
      const bytes = format.dataLength ?? (await file.stat()).size - format.dataOffset;
      return Math.round((bytes / format.blockAlign / format.sampleRate) * 1000);
    } finally {
      await file.close();
    }
  } catch {
    // No file (killed before its first flush) or not readable: what was recognised.
    return lastWord;
  }
}
