/**
 * What a player plays: a PCM source is mono 16-bit audio at its own rate,
 * given in chunks by an async iterable the player pulls ahead of time (never
 * on the 20 ms tick). `chunks()` may be called again to play it again (loop).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { WavError, decodeWavSamples, parseWavHeader } from './wav.js';

export interface PcmSource {
  /** For logs and results: a file path, `tone:440`… */
  readonly name: string;
  readonly sampleRate: number;
  /** A fresh pass over the audio. Throws (or its iterator rejects) when it cannot be read. */
  chunks(): AsyncIterable<Int16Array>;
}

/** Bytes read from a file at a time: about half a second of 16 kHz 16-bit audio. */
const READ_BYTES = 16384;
const HEAD_BYTES = 4096;

/** The header of a WAV file, read once: the rate a player needs before it starts. */
export async function wavFile(path: string): Promise<PcmSource> {
  const handle = await open(path, 'r');
  let format;
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    format = parseWavHeader(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
  const wav = format;
  return {
    name: path,
    sampleRate: wav.sampleRate,
    async *chunks() {
      const file: FileHandle = await open(path, 'r');
      try {
        const end = wav.dataLength === undefined ? Infinity : wav.dataOffset + wav.dataLength;
        let position = wav.dataOffset;
        // Whole sample frames per read, so a frame never straddles two chunks.
        const size = Math.max(wav.blockAlign, READ_BYTES - (READ_BYTES % wav.blockAlign));
        const buffer = Buffer.alloc(size);
        while (position < end) {
          const want = Math.min(size, end - position);
          const { bytesRead } = await file.read(buffer, 0, want, position);
          const whole = bytesRead - (bytesRead % wav.blockAlign);
          if (whole <= 0) break; // end of file (a cut recording)
          position += whole;
          yield decodeWavSamples(wav, buffer.subarray(0, whole));
        }
      } finally {
        await file.close();
      }
    },
  };
}

export { WavError };

/** Chunks of 100 ms made by `sample(i)` for `samples` samples (Infinity: forever). */
function generated(
  name: string,
  sampleRate: number,
  samples: number,
  sample: (i: number) => number,
): PcmSource {
  const chunk = sampleRate / 10;
  return {
    name,
    sampleRate,
    async *chunks() {
      for (let at = 0; at < samples; at += chunk) {
        const n = Math.min(chunk, samples - at);
        const out = new Int16Array(n);
        for (let i = 0; i < n; i += 1) out[i] = Math.round(sample(at + i));
        yield out;
        // Let the event loop breathe between chunks of an endless source.
        await Promise.resolve();
      }
    },
  };
}

export interface ToneOptions {
  readonly frequencyHz: number;
  /** Default: forever. */
  readonly durationMs?: number;
  /** Peak amplitude 0..1, default 0.5 (-6 dBFS). */
  readonly volume?: number;
  readonly sampleRate?: number;
}

/** A sine tone (queue tests measure its frequency at the far end). */
export function tone(options: ToneOptions): PcmSource {
  const rate = options.sampleRate ?? 8000;
  const amplitude = 32767 * (options.volume ?? 0.5);
  const w = (2 * Math.PI * options.frequencyHz) / rate;
  const samples =
    options.durationMs === undefined ? Infinity : Math.round((options.durationMs * rate) / 1000);
  return generated(
    `tone:${options.frequencyHz}`,
    rate,
    samples,
    (i) => amplitude * Math.sin(w * i),
  );
}

/** The beep before a recording: 1 kHz for 400 ms, with 5 ms ramps so it does not click. */
export function beep(options: { frequencyHz?: number; durationMs?: number } = {}): PcmSource {
  const rate = 8000;
  const samples = Math.round(((options.durationMs ?? 400) * rate) / 1000);
  const ramp = rate / 200;
  const w = (2 * Math.PI * (options.frequencyHz ?? 1000)) / rate;
  return generated(`beep:${options.frequencyHz ?? 1000}`, rate, samples, (i) => {
    const envelope = Math.min(1, i / ramp, (samples - 1 - i) / ramp);
    return 16384 * envelope * Math.sin(w * i);
  });
}

export function silence(durationMs: number, sampleRate = 8000): PcmSource {
  return generated('silence', sampleRate, Math.round((durationMs * sampleRate) / 1000), () => 0);
}

/**
 * Music on hold made on the spot, so a queue plays something with no file: a
 * slow arpeggio (A minor, F, C, G) of soft sine notes with a gentle attack and
 * decay, 400 ms a note, looping every 6.4 s. Every note lies inside the
 * telephone band (220-660 Hz).
 */
export function musicOnHold(sampleRate = 8000): PcmSource {
  const chords = [
    [220, 261.63, 329.63, 440],
    [174.61, 220, 261.63, 349.23],
    [261.63, 329.63, 392, 523.25],
    [196, 246.94, 293.66, 392],
  ];
  const notes = chords.flatMap((c) => [...c, ...c.slice(1, 3).reverse(), c[1]!, c[0]!]);
  const noteSamples = Math.round(0.4 * sampleRate);
  return generated('music-on-hold', sampleRate, Infinity, (i) => {
    const n = Math.floor(i / noteSamples);
    const t = i - n * noteSamples;
    const f = notes[n % notes.length]!;
    const attack = Math.min(1, t / (0.02 * sampleRate));
    const decay = Math.exp((-2.5 * t) / noteSamples);
    const w = (2 * Math.PI * f) / sampleRate;
    return 9000 * attack * decay * (Math.sin(w * t) + 0.25 * Math.sin(2 * w * t));
  });
}

/** Audio that arrives from elsewhere (text to speech, a stream): mono 16-bit chunks at `sampleRate`. */
export function pcmStream(
  name: string,
  sampleRate: number,
  chunks: AsyncIterable<Int16Array> | (() => AsyncIterable<Int16Array>),
): PcmSource {
  return {
    name,
    sampleRate,
    chunks: typeof chunks === 'function' ? chunks : () => chunks,
  };
}
