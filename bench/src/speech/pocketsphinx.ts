/**
 * The benches' pocketsphinx transcriber: Debian's en-us model, a partial every
 * 100 ms, an utterance ended by 500 ms of silence, generous start/end timeouts
 * (a loaded machine starts decoders slowly), logs off.
 */
import { createLogger } from '../../../gateway/src/observability/index.js';
import { PocketsphinxTranscriber } from '../../../gateway/src/speech/index.js';

export const MODEL = '/usr/share/pocketsphinx/model/en-us';

export function pocketsphinx(
  processes: number,
  options: { secondPass?: boolean; maxStreams?: number; idleDecoders?: number } = {},
): PocketsphinxTranscriber {
  return new PocketsphinxTranscriber({
    hmm: `${MODEL}/en-us`,
    dict: `${MODEL}/cmudict-en-us.dict`,
    lm: `${MODEL}/en-us.lm.bin`,
    processes,
    maxStreams: options.maxStreams ?? 64,
    idleDecoders: options.idleDecoders ?? 8,
    partialIntervalMs: 100,
    endSilenceMs: 500,
    maxUtteranceSeconds: 30,
    secondPass: options.secondPass ?? true,
    startTimeoutMs: 60_000,
    endTimeoutMs: 60_000,
    logger: createLogger('silent'),
  });
}
