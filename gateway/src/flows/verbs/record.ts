/**
 * `record`: the caller's audio to a WAV file under `storage.recordingsDir`.
 * Ends at the first of: `maxLengthSeconds`, `silenceTimeoutSeconds` of
 * silence (counted in the recorder's 20 ms frames, so it is exact whatever
 * the machine's load), a key of `finishOnKey`, the caller hanging up. A
 * recording that cannot be written is a `recording_failed` error: the call
 * goes on.
 */
import type { Digit, Recording } from '../ports.js';
import { BEEP } from '../runtime/tones.js';
import type { VerbContext } from '../runtime/verb-context.js';
import { VerbError } from '../runtime/verb-error.js';
import type { RecordResult } from './results.js';
import type { RecordVerb } from './schema.js';

/**
 * A frame quieter than this is silence. Speech on a phone line sits around
 * -20 to -30 dBFS and line noise below -55; the gap is wide enough that one
 * fixed threshold serves (TwiML has no setting for it either).
 */
export const SILENCE_DBFS = -45;
const FRAME_MS = 20;

type End = { by: RecordResult['endedBy']; key?: Digit } | { by: 'error'; error: Error };

export async function record(verb: RecordVerb, ctx: VerbContext): Promise<RecordResult> {
  await ctx.call.answer();
  if (verb.beep) await ctx.call.play(BEEP, { signal: ctx.signal });
  // Keys pressed before the recording started do not end it.
  ctx.digits.clear();
  const path = ctx.recordingPath();
  const stop = new AbortController();
  let recording: Recording;
  try {
    recording = await ctx.call.startRecording({ path, signal: stop.signal });
  } catch (error) {
    throw new VerbError('recording_failed', `${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const end = await new Promise<End>((resolve) => {
    let silentMs = 0;
    const cleanups: (() => void)[] = [];
    const finish = (how: End): void => {
      for (const cleanup of cleanups) cleanup();
      resolve(how);
    };
    if (ctx.signal.aborted) return finish({ by: 'hangup' });
    const timer = setTimeout(() => finish({ by: 'max-length' }), verb.maxLengthSeconds * 1000);
    cleanups.push(() => clearTimeout(timer));
    const onHangup = (): void => finish({ by: 'hangup' });
    ctx.signal.addEventListener('abort', onHangup, { once: true });
    cleanups.push(() => ctx.signal.removeEventListener('abort', onHangup));
    const onLevel = (dbfs: number): void => {
      silentMs = dbfs < SILENCE_DBFS ? silentMs + FRAME_MS : 0;
      if (verb.silenceTimeoutSeconds > 0 && silentMs >= verb.silenceTimeoutSeconds * 1000)
        finish({ by: 'silence' });
    };
    recording.on('level', onLevel);
    cleanups.push(() => recording.off('level', onLevel));
    const onError = (error: Error): void => finish({ by: 'error', error });
    recording.on('error', onError);
    cleanups.push(() => recording.off('error', onError));
    if (verb.finishOnKey !== '') {
      cleanups.push(
        ctx.digits.onKey((digit) => {
          if (verb.finishOnKey.includes(digit)) finish({ by: 'key', key: digit });
        }),
      );
    }
  });
  stop.abort();
  const written = await recording.stop();
  if (end.by === 'key') ctx.digits.clear(); // the finish key is not a gather's first digit
  if (end.by === 'error')
    throw new VerbError(
      'recording_failed',
      `${path}: ${end.error.message} (${Math.round(written.durationMs / 1000)} s kept)`,
      { cause: end.error },
    );
  return {
    status: end.by === 'hangup' ? 'hangup' : 'completed',
    path: written.path,
    durationSeconds: Math.round(written.durationMs / 100) / 10,
    bytes: written.bytes,
    endedBy: end.by,
    ...(end.key === undefined ? {} : { key: end.key }),
  };
}
