/**
 * The few functions of Debian 12's pocketsphinx the decoder needs, through
 * koffi (FFI: no compiler, no headers; bookworm ships no -dev package anyway).
 *
 * Debian 12 ships `libpocketsphinx3` 0.8+5prealpha (not pocketsphinx 5.0):
 * the 5prealpha API, with `ps_start_stream`, `ps_start_utt`,
 * `ps_process_raw`, `ps_get_hyp`, `ps_get_in_speech` (the voice activity
 * detector of `-remove_silence yes`), `ps_end_utt` and segment iterators.
 * Configuration is a `cmd_ln_t` parsed from argv-style strings. Only the child
 * process (`host.ts`) loads this file: a crash in C stays there.
 *
 * Measured facts this relies on (Debian 12, flite slt):
 * - word frames (10 ms each) count from `ps_start_stream`, silence included:
 *   they are times in the stream, not in the utterance;
 * - `ps_get_in_speech` turns false `-vad_postspeech` frames (default 50 =
 *   0.5 s) after speech ends, which is when an utterance is ended;
 * - a decoder takes ~250 ms and ~95 MB to create with its own language model,
 *   ~60 MB when the model is shared (`ps_set_lm`), hence one model per process.
 */
import koffi from 'koffi';

/** An opaque C pointer (koffi external). */
export type Pointer = { readonly __pointer: unique symbol };

export interface PocketsphinxLib {
  /** argv-style options (`-hmm`, `-dict`, …) → a config; null when an option is wrong. */
  parseConfig(argv: readonly string[]): Pointer | null;
  init(config: Pointer): Pointer | null;
  readLanguageModel(config: Pointer, path: string, decoder: Pointer): Pointer | null;
  setLanguageModel(decoder: Pointer, name: string, model: Pointer): number;
  setSearch(decoder: Pointer, name: string): number;
  startStream(decoder: Pointer): number;
  startUtterance(decoder: Pointer): number;
  endUtterance(decoder: Pointer): number;
  /** Frames searched, or < 0 on error. */
  processRaw(decoder: Pointer, samples: Int16Array): number;
  inSpeech(decoder: Pointer): boolean;
  hypothesis(decoder: Pointer): string | null;
  /** The words of the best path (fillers included), after `endUtterance` with posteriors. */
  segments(decoder: Pointer): RawSegment[];
  free(decoder: Pointer): void;
}

export interface RawSegment {
  readonly word: string;
  /** Frames (10 ms) from the stream's start. */
  readonly startFrame: number;
  readonly endFrame: number;
  /** exp of the word's log posterior, 0..1 (sometimes a hair above 1: rounding in logmath). */
  readonly posterior: number;
}

const NGRAM_AUTO = 0;

/** Loads the Debian libraries; throws when they are not installed. */
export function loadPocketsphinx(): PocketsphinxLib {
  const ps = koffi.load('libpocketsphinx.so.3');
  const sb = koffi.load('libsphinxbase.so.3');
  const psArgs = ps.func('void *ps_args()');
  const cmdLnParse = sb.func(
    'void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)',
  );
  const psInit = ps.func('void *ps_init(void *config)');
  const psGetLogmath = ps.func('void *ps_get_logmath(void *ps)');
  const ngramRead = sb.func(
    'void *ngram_model_read(void *config, const char *path, int type, void *lmath)',
  );
  const psSetLm = ps.func('int ps_set_lm(void *ps, const char *name, void *lm)');
  const psSetSearch = ps.func('int ps_set_search(void *ps, const char *name)');
  const psStartStream = ps.func('int ps_start_stream(void *ps)');
  const psStartUtt = ps.func('int ps_start_utt(void *ps)');
  const psEndUtt = ps.func('int ps_end_utt(void *ps)');
  const psProcessRaw = ps.func(
    'int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)',
  );
  const psGetInSpeech = ps.func('uint8_t ps_get_in_speech(void *ps)');
  const psGetHyp = ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)');
  const psSegIter = ps.func('void *ps_seg_iter(void *ps)');
  const psSegNext = ps.func('void *ps_seg_next(void *seg)');
  const psSegWord = ps.func('const char *ps_seg_word(void *seg)');
  const psSegFrames = ps.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)');
  const psSegProb = ps.func(
    'int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)',
  );
  const logmathExp = sb.func('double logmath_exp(void *lmath, int32_t value)');
  const psFree = ps.func('int ps_free(void *ps)');

  return {
    parseConfig: (argv) => cmdLnParse(null, psArgs(), argv.length, [...argv], 1) as Pointer | null,
    init: (config) => psInit(config) as Pointer | null,
    readLanguageModel: (config, path, decoder) =>
      ngramRead(config, path, NGRAM_AUTO, psGetLogmath(decoder)) as Pointer | null,
    setLanguageModel: (decoder, name, model) => psSetLm(decoder, name, model) as number,
    setSearch: (decoder, name) => psSetSearch(decoder, name) as number,
    startStream: (decoder) => psStartStream(decoder) as number,
    startUtterance: (decoder) => psStartUtt(decoder) as number,
    endUtterance: (decoder) => psEndUtt(decoder) as number,
    processRaw: (decoder, samples) =>
      psProcessRaw(decoder, samples, samples.length, 0, 0) as number,
    inSpeech: (decoder) => (psGetInSpeech(decoder) as number) !== 0,
    hypothesis: (decoder) => psGetHyp(decoder, [0]) as string | null,
    segments: (decoder) => {
      const lmath = psGetLogmath(decoder);
      const out: RawSegment[] = [];
      for (let seg = psSegIter(decoder); seg; seg = psSegNext(seg)) {
        const start = [0];
        const end = [0];
        psSegFrames(seg, start, end);
        const prob = psSegProb(seg, [0], [0], [0]) as number;
        out.push({
          word: psSegWord(seg) as string,
          startFrame: start[0] ?? 0,
          endFrame: end[0] ?? 0,
          posterior: logmathExp(lmath, prob) as number,
        });
      }
      return out;
    },
    free: (decoder) => void psFree(decoder),
  };
}
