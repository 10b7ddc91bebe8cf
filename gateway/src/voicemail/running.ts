/**
 * A voicemail being recorded now ({@link Running}, `voicemails.ts` keeps
 * them) and how its end is recorded and told: the row ended (a failed end
 * tried again, `writes.ts`), the `voicemail-ended` frame published for the
 * desks, `/live` and the webhook, the visitor told, the call ended unless an
 * agent took it; or, for a row that could not be stored, its WAV removed and
 * the call ended `voicemail_not_stored`.
 */
import { rm } from 'node:fs/promises';
import type { VoicemailCause, VoicemailTyped } from '@parley/shared/protocol';
import type { Call, ChosenCodec } from '../calls/index.js';
import type { VoicemailSettings } from '../config/voicemail.js';
import type { LegMedia } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { VoicemailLive } from './live.js';
import type { MessageResult, VoicemailMessage } from './message.js';
import type { VoicemailRecord } from './store.js';
import { voicemailView } from './view.js';
import { tellVisitor } from './visitor-notice.js';
import { ended, type VoicemailWrites } from './writes.js';

/** Whose box a message goes to, with what settings, and why voicemail answered. */
export interface VoicemailBox {
  /** The queue's box ('' for an agent's own box). */
  readonly queue: string;
  /** An agent's own box: only that agent sees it live and may take the call. */
  readonly agent?: string | undefined;
  /** Its settings, the greeting already the one for `cause`. */
  readonly settings: VoicemailSettings;
  readonly cause: VoicemailCause;
}

/** A voicemail being recorded now. */
export interface Running {
  readonly id: string;
  readonly box: VoicemailBox;
  readonly call: Call;
  readonly message: VoicemailMessage;
  /** Its WAV. */
  readonly file: string;
  readonly leg: LegMedia;
  /** The codec the caller was answered with: the only one a taker is offered. */
  readonly codec: ChosenCodec;
  /** Resolves when the message ended and its record is final. */
  readonly done: Promise<void>;
  /** Resolves when the recorder stopped (the transcript may still be finishing), or at `done`. */
  readonly recorded: Promise<void>;
  recording: boolean;
  /** What the caller typed on the data channel, in order (the `voicemail-ended` view carries it). */
  readonly typed: VoicemailTyped[];
  /** The row as inserted (the `voicemail-started` view, without a read). */
  inserted?: VoicemailRecord | undefined;
  /** The insert's outcome: false when the row could not be stored (the message is then ended). */
  stored?: Promise<boolean> | undefined;
  /** The agent taking the call (while their phone rings, then for good). */
  taker?: string | undefined;
  takenAt?: number | undefined;
}

export interface EndDeps {
  readonly writes: VoicemailWrites;
  readonly live: VoicemailLive;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * A message is over: the call ended unless taken (first: the caller never
 * waits on the database), its row ended (tried again on failure), and the
 * frame published when this end is the one stored (a row someone else ended
 * was published by them; one still `recording` after every try is tried
 * again every 30 s and published when it lands, or ended and published by
 * the next start or a survivor, `interrupted.ts`).
 */
export async function endMessage(
  deps: EndDeps,
  running: Running,
  result: MessageResult,
): Promise<void> {
  const { id, call } = running;
  if (!result.recorded) {
    // Gone before the beep: no voicemail row, no file (the recorder never started).
    deps.logger.info({ callId: call.id, reason: result.reason }, 'caller left before the beep');
    if (result.reason !== 'stopped')
      call.end({ outcome: 'no_answer', endedBy: 'visitor', reason: 'cancelled' });
    return;
  }
  const taken = result.reason === 'taken';
  tellVisitor(call, false, () => true);
  const end = {
    status: taken ? 'taken' : result.reason === 'error' ? 'failed' : 'left',
    endedAt: deps.now(),
    durationMs: result.durationMs,
    endReason: result.reason,
    ...(taken ? { takenBy: running.taker, takenAt: running.takenAt } : {}),
  } as const;
  // Taken: the caller is being bridged to the agent.
  if (!taken) {
    const endedBy = result.reason === 'hangup' ? 'visitor' : 'gateway';
    call.end({ outcome: 'no_answer', endedBy, reason: 'normal_clearing' });
  }
  const finished = await deps.writes.finish(id, end);
  deps.logger.info(
    { voicemailId: id, reason: result.reason, ms: result.durationMs, stored: finished },
    'voicemail left',
  );
  const publish = async () => {
    const voicemail = await deps.writes.view(id, running.inserted, running.typed, end);
    deps.live.publish({ type: 'voicemail-ended', voicemail });
  };
  if (finished === 'ended') await publish();
  else if (finished === 'failed') deps.writes.later(id, end, publish);
}

/**
 * Its row could not be stored: the WAV goes (no row would ever name it),
 * the desks and webhook hear it ended `failed`, and the call ends with
 * `voicemail_not_stored` unless an agent took it meanwhile.
 */
export async function endNotStored(
  deps: EndDeps,
  running: Running,
  result: MessageResult,
): Promise<void> {
  const { id, call } = running;
  tellVisitor(call, false, () => true);
  await rm(running.file, { force: true }).catch((err: unknown) =>
    deps.logger.error({ err, voicemailId: id }, 'recording of an unstored voicemail not removed'),
  );
  const end = {
    status: 'failed',
    endedAt: deps.now(),
    durationMs: result.durationMs,
    endReason: 'voicemail_not_stored',
  } as const;
  if (result.reason !== 'taken')
    call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'voicemail_not_stored' });
  // The insert may have landed with its answer lost: such a row is ended
  // here, so no start or survivor later ends it as a message to hear (with
  // no row this changes nothing).
  await deps.writes.finish(id, end);
  if (running.inserted) {
    const voicemail = { ...voicemailView(ended(running.inserted, end), true), typed: [] };
    deps.live.publish({ type: 'voicemail-ended', voicemail });
  }
}
