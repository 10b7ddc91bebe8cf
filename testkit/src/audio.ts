/**
 * Audio fixtures and checks with sox, flite and pocketsphinx.
 *
 * Facts this relies on (checked on Debian 12):
 * - `sox X -n stat` prints to stderr; on a multi-channel file its "Rough
 *   frequency" is wrong (the channels are read interleaved), hence `remix -`.
 *   On silence the rough frequency is garbage (-2147483648, or ≈1800 for
 *   dither noise): `analyse` reports 0 below -60 dBFS.
 * - A 1 kHz tone through G.711 reads about 975 Hz.
 * - pocketsphinx's en-us model wants 16 kHz mono; flite's slt voice is
 *   recognised word for word. 8 kHz telephone audio upsampled is not (the
 *   empty band above 4 kHz reads as a wrong spectrum, it finds "one"), unless
 *   weak noise fills that band: white noise at -34 dBFS peak above 4.2 kHz
 *   gives "please leave your message after the tone" back word for word
 *   through µ-law and A-law, as baresip recorded it, 8 times out of 8 (at
 *   -40 dBFS 7 of 8; the result turns on sox's dither, hence `-R`):
 *   `transcribe(path, { narrowband: true })`.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';

import { runCommand } from './process.js';
import { TestkitError } from './testkit-error.js';

/** sox sample encodings worth naming for telephony. */
export type SampleEncoding = 'signed-integer' | 'u-law' | 'a-law';

export interface ToneOptions {
  /** Output WAV path. */
  readonly path: string;
  /** Default 1000. */
  readonly freqHz?: number;
  /** Default 1. */
  readonly seconds?: number;
  /** Sample rate, default 8000. */
  readonly rate?: number;
  /** Default 1. */
  readonly channels?: number;
  /** Peak amplitude 0..1, default 0.5. */
  readonly volume?: number;
  /** Default 16-bit signed integer. */
  readonly encoding?: SampleEncoding;
  /** Headerless samples instead of WAV (`raw` + `u-law` is what sipp's rtp_stream sends as PCMU). */
  readonly raw?: boolean;
}

/** Writes a sine tone (WAV, or raw samples) with sox; returns the path. */
export async function makeTone(options: ToneOptions): Promise<string> {
  const encoding = options.encoding ?? 'signed-integer';
  const format = [
    '-t',
    options.raw ? 'raw' : 'wav',
    '-r',
    String(options.rate ?? 8000),
    '-c',
    String(options.channels ?? 1),
    '-e',
    encoding,
    ...(encoding === 'signed-integer' ? ['-b', '16'] : []),
  ];
  await writeAtomically(options.path, (tmp) =>
    runCommand('sox', [
      '-n',
      ...format,
      tmp,
      'synth',
      String(options.seconds ?? 1),
      'sine',
      String(options.freqHz ?? 1000),
      'vol',
      String(options.volume ?? 0.5),
    ]),
  );
  return options.path;
}

export interface SpeakOptions {
  readonly text: string;
  /** Output WAV path. */
  readonly path: string;
  /** Sample rate of the result. Default 16000 (flite's own). */
  readonly rate?: number;
  /** Default 1. */
  readonly channels?: number;
  /** flite voice, default `slt` (recognised best by pocketsphinx). */
  readonly voice?: string;
}

/** Speaks `text` with flite into a 16-bit WAV at the wanted rate; returns the path. */
export async function speak(options: SpeakOptions): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'parley-speak-'));
  try {
    const raw = join(work, 'flite.wav');
    await runCommand('flite', ['-voice', options.voice ?? 'slt', '-t', options.text, '-o', raw]);
    await writeAtomically(options.path, (tmp) =>
      runCommand('sox', [
        raw,
        '-r',
        String(options.rate ?? 16000),
        '-c',
        String(options.channels ?? 1),
        '-b',
        '16',
        tmp,
      ]),
    );
    return options.path;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface LoopOptions {
  readonly input: string;
  readonly path: string;
  /** Total length wanted; the input is repeated (and cut) to reach it. */
  readonly seconds: number;
  /** Silence after each repetition, default 0. */
  readonly gapSeconds?: number;
  /** Convert while at it (baresip's aufile does not resample). */
  readonly rate?: number;
  readonly channels?: number;
}

/**
 * Repeats a WAV until it lasts `seconds`: baresip hangs up when its aufile
 * source reaches the end, so an agent's prompt must outlast the call.
 */
export async function loopAudio(options: LoopOptions): Promise<string> {
  const { seconds: length } = await analyse(options.input);
  const unit = length + (options.gapSeconds ?? 0);
  if (unit <= 0) throw new TestkitError('bad_input', `${options.input} is empty`);
  const repeats = Math.max(0, Math.ceil(options.seconds / unit) - 1);
  const format = [
    ...(options.rate ? ['-r', String(options.rate)] : []),
    ...(options.channels ? ['-c', String(options.channels)] : []),
  ];
  const pad = options.gapSeconds ? ['pad', '0', String(options.gapSeconds)] : [];
  await writeAtomically(options.path, (tmp) =>
    runCommand('sox', [
      options.input,
      ...format,
      '-b',
      '16',
      tmp,
      ...pad,
      'repeat',
      String(repeats),
      'trim',
      '0',
      String(options.seconds),
    ]),
  );
  return options.path;
}

export interface AudioAnalysis {
  /** RMS amplitude, 0..1 (silence ≈ 0; a sine at volume v ≈ 0.707·v). */
  readonly rms: number;
  /** Largest absolute sample, 0..1. */
  readonly maxAmplitude: number;
  /** sox's zero-crossing estimate; 0 for silence. */
  readonly roughFrequencyHz: number;
  readonly seconds: number;
  readonly samples: number;
}

/** Reads `sox FILE -n remix - stat` (all channels mixed down to one). */
export async function analyse(path: string): Promise<AudioAnalysis> {
  if (!existsSync(path)) throw new TestkitError('bad_input', `no such audio file: ${path}`);
  const { stderr } = await runCommand('sox', [path, '-n', 'remix', '-', 'stat']);
  return parseSoxStat(stderr);
}

/**
 * Like {@link analyse}, for the last `seconds` of the file only: what a peer
 * heard after something happened mid-call (a reconnect, an ICE restart).
 */
export async function analyseTail(path: string, seconds: number): Promise<AudioAnalysis> {
  const { seconds: length } = await analyse(path);
  const from = Math.max(0, length - seconds);
  const { stderr } = await runCommand('sox', [
    path,
    '-n',
    'remix',
    '-',
    'trim',
    from.toFixed(3),
    'stat',
  ]);
  return parseSoxStat(stderr);
}

/**
 * A copy of the recording (`<name>-trimmed.wav` beside it) without its leading
 * and trailing silence (below 2 % for 50 ms): a call's recording starts and
 * ends with quiet that would dilute {@link analyse}'s figures.
 */
export async function trimSilence(path: string): Promise<string> {
  const out = path.replace(/\.wav$/, '-trimmed.wav');
  const silence = ['silence', '1', '0.05', '2%'];
  await runCommand('sox', [path, out, ...silence, 'reverse', ...silence, 'reverse']);
  return out;
}

/** Parses the text `sox … stat` prints (exported for tests). */
export function parseSoxStat(text: string): AudioAnalysis {
  const field = (label: string): number => {
    const match = new RegExp(`^${label}:\\s*(-?[0-9.]+)`, 'm').exec(text);
    if (!match?.[1])
      throw new TestkitError('tool_failed', `sox stat printed no "${label}":\n${text}`);
    return Number(match[1]);
  };
  const max = field('Maximum amplitude');
  const min = field('Minimum amplitude');
  const frequency = field('Rough\\s+frequency');
  const rms = field('RMS\\s+amplitude');
  return {
    rms,
    maxAmplitude: Math.max(Math.abs(max), Math.abs(min)),
    // Below -60 dBFS there is no tone to measure: sox prints garbage for
    // digital silence (-2147483648) and the dither noise's crossings (≈1800).
    roughFrequencyHz: frequency > 0 && rms >= 0.001 ? frequency : 0,
    seconds: field('Length \\(seconds\\)'),
    samples: field('Samples read'),
  };
}

/** True when the file's RMS is below `threshold` (default 0.005, about -46 dBFS). */
export async function isSilent(path: string, threshold = 0.005): Promise<boolean> {
  return (await analyse(path)).rms < threshold;
}

export interface TranscribeOptions {
  /**
   * The audio went through an 8 kHz codec (G.711): fill the empty band above
   * 4 kHz with weak noise before recognition (see the notes at the top).
   */
  readonly narrowband?: boolean;
}

/**
 * Transcribes speech with pocketsphinx (en-us), resampling to 16 kHz mono
 * first. Returns the recognised words, lower case, one space between them.
 */
export async function transcribe(path: string, options: TranscribeOptions = {}): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'parley-asr-'));
  try {
    let wav = join(work, 'in16k.wav');
    // -R: sox's dither (and noise) the same every run, so a file always reads the same.
    await runCommand('sox', ['-R', path, '-r', '16000', '-c', '1', '-b', '16', wav]);
    if (options.narrowband) {
      const { seconds } = await analyse(wav);
      const noise = join(work, 'high-band-noise.wav');
      await runCommand('sox', [
        ...['-R', '-n', '-r', '16000', '-c', '1', '-b', '16', noise],
        ...['synth', String(seconds), 'whitenoise', 'vol', '0.02', 'sinc', '4200'],
      ]);
      const mixed = join(work, 'filled.wav');
      await runCommand('sox', ['-R', '-m', '-v', '1', wav, '-v', '1', noise, mixed]);
      wav = mixed;
    }
    const { stdout } = await runCommand(
      'pocketsphinx_continuous',
      ['-infile', wav, '-logfn', '/dev/null'],
      { timeoutMs: 60_000 },
    );
    return stdout
      .split(/\s+/)
      .filter((w) => w.length > 0)
      .join(' ')
      .toLowerCase();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * How many of `expected`'s words pocketsphinx found, in order (a longest
 * common subsequence of words): "found" need not be word for word when one
 * word of a narrowband prompt is misheard.
 */
export function wordsFound(expected: string, heard: string): number {
  const a = expected.toLowerCase().split(/\s+/).filter(Boolean);
  const b = heard.toLowerCase().split(/\s+/).filter(Boolean);
  const row = new Array<number>(b.length + 1).fill(0);
  for (const word of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = word === b[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1]!);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

let cacheDir: string | undefined;

/** A per-user cache for generated fixtures shared by every test process. */
export function audioCacheDir(): string {
  cacheDir ??= join(tmpdir(), `parley-testkit-audio-${process.getuid?.() ?? 'u'}`);
  mkdirSync(cacheDir, { recursive: true });
  return cacheDir;
}

/**
 * A cached tone (generated once per machine, then reused by every process):
 * safe to call from parallel tests, the file appears atomically.
 */
export async function cachedTone(options: Omit<ToneOptions, 'path'>): Promise<string> {
  const key = [
    options.freqHz ?? 1000,
    'hz',
    options.seconds ?? 1,
    's',
    options.rate ?? 8000,
    'x',
    options.channels ?? 1,
    options.encoding ?? 'signed-integer',
    options.volume ?? 0.5,
  ].join('-');
  const path = join(audioCacheDir(), `tone-${key}.${options.raw ? 'raw' : 'wav'}`);
  if (!existsSync(path)) await makeTone({ ...options, path });
  return path;
}

async function writeAtomically(
  path: string,
  write: (tmp: string) => Promise<unknown>,
): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}.wav`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Seconds of audio in a WAV file that may still be being written (baresip's
 * call recordings): the file's size past the 44-byte header over the header's
 * byte rate (the size fields are only filled in when the writer closes it).
 * 0 when the file is missing or shorter than a header.
 */
export function wavSeconds(path: string): number {
  let header: Buffer;
  let size: number;
  try {
    size = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      header = Buffer.alloc(44);
      if (readSync(fd, header, 0, 44, 0) < 44) return 0;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
  const byteRate = header.readUInt32LE(28);
  return byteRate > 0 ? Math.max(0, size - 44) / byteRate : 0;
}
