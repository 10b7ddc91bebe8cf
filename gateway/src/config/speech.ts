/** The `speech` section: text to speech (flite) and the transcriber (docs/speech.md). */
import { z } from 'zod';

/** The voices Debian's flite ships (`flite -lv`, less awb_time, which only tells the time). */
export const FLITE_VOICES = ['slt', 'kal', 'kal16', 'awb', 'rms'] as const;
const POCKETSPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us';

export const speech = z
  .strictObject({
    /** The recogniser of transcription streams: `pocketsphinx` (built in) or `websocket` (a company's). */
    engine: z.enum(['pocketsphinx', 'websocket']).default('pocketsphinx'),
    /** After a stream's end, how long its last final may take before the stream fails. */
    endTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    tts: z
      .strictObject({
        /** Where spoken prompts are cached (default: `speech-cache` beside storage.path). */
        cacheDir: z.string().min(1).optional(),
        /** Voices a `say` may name. */
        voices: z
          .array(z.enum(FLITE_VOICES))
          .min(1)
          .default([...FLITE_VOICES]),
        /** slt is the voice pocketsphinx recognises best. */
        defaultVoice: z.enum(FLITE_VOICES).default('slt'),
        /** flite processes at once; more requests wait (within timeoutMs). */
        maxConcurrent: z.number().int().min(1).max(32).default(2),
        /** From a request to its file, waiting included. */
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
        /** Characters of text, after whitespace is collapsed. */
        maxTextLength: z.number().int().min(1).max(20_000).default(2000),
        /** Past this the least recently used files go (none used within the last hour). */
        cacheMaxMegabytes: z.number().int().min(1).default(256),
      })
      .refine((tts) => tts.voices.includes(tts.defaultVoice), {
        message: 'defaultVoice must be one of voices',
        path: ['defaultVoice'],
      })
      .prefault({}),
    pocketsphinx: z
      .strictObject({
        /** Acoustic model directory, dictionary and language model (Debian's pocketsphinx-en-us). */
        hmm: z.string().min(1).default(`${POCKETSPHINX_MODEL}/en-us`),
        dict: z.string().min(1).default(`${POCKETSPHINX_MODEL}/cmudict-en-us.dict`),
        lm: z.string().min(1).default(`${POCKETSPHINX_MODEL}/en-us.lm.bin`),
        /** Decoder processes at most (started on demand; about one per core). */
        processes: z.number().int().min(1).max(64).default(2),
        /** Streams at once; more fail with transcriber_busy. */
        maxStreams: z.number().int().min(1).max(1000).default(32),
        /** Decoders each process keeps loaded between streams (creating one takes ~250 ms). */
        idleDecoders: z.number().int().min(0).max(64).default(2),
        /** Audio between two partial results. */
        partialIntervalMs: z.number().int().min(20).max(2000).default(100),
        /** Silence that ends an utterance (and brings its final). */
        endSilenceMs: z.number().int().min(100).max(5000).default(500),
        /** An utterance this long is ended even if the speaker goes on. */
        maxUtteranceSeconds: z.number().int().min(5).max(600).default(30),
        /** The second search pass at each utterance's end: fewer word errors, a later final. */
        secondPass: z.boolean().default(true),
        /** A decoder process not ready this long after its start is killed. */
        startTimeoutMs: z.number().int().min(1000).max(120_000).default(30_000),
      })
      .prefault({}),
    /** The company's recogniser (docs/speech.md has the protocol); needed when engine is `websocket`. */
    websocket: z
      .strictObject({
        url: z.url().regex(/^wss?:\/\//, 'a ws: or wss: URL'),
        /** Sent with each connection's upgrade request. */
        headers: z.record(z.string(), z.string()).default({}),
        /** Sent as `Authorization: Bearer <token>` (or PARLEY_SPEECH_TOKEN). */
        token: z.string().min(1).optional(),
        /** What the recogniser takes; the media side resamples to it. */
        sampleRate: z.union([z.literal(8000), z.literal(16000)]).default(16000),
        connectTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
        /** Reconnections in a row before a stream fails. */
        reconnectAttempts: z.number().int().min(0).max(20).default(3),
        /** First delay between attempts, doubled each time. */
        reconnectDelayMs: z.number().int().min(10).max(60_000).default(250),
        /** Audio since the last final kept to send again after a reconnect. */
        replaySeconds: z.number().int().min(0).max(120).default(10),
        /** Ping this often; no pong by the next ping ends the connection. */
        pingIntervalMs: z.number().int().min(100).max(300_000).default(10_000),
        /** Audio queued unsent past this: the recogniser is not reading, the stream fails. */
        maxBacklogSeconds: z.number().int().min(1).max(120).default(5),
        /** Streams at once; more fail with transcriber_busy. */
        maxStreams: z.number().int().min(1).max(10_000).default(100),
      })
      .optional(),
  })
  .refine((s) => s.engine !== 'websocket' || s.websocket !== undefined, {
    message: 'engine "websocket" needs speech.websocket (url, …)',
    path: ['websocket'],
  });
