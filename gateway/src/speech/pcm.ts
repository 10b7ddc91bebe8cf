/**
 * The one audio format the speech module speaks: linear PCM, signed 16-bit
 * little-endian, mono, at 8 or 16 kHz, in RIFF/WAVE files (what flite and sox
 * write, and what the media side's player reads) or as Int16Array frames.
 */
import { readFile } from 'node:fs/promises';

export type SpeechSampleRate = 8000 | 16000;

export interface PcmFormat {
  readonly encoding: 'pcm_s16le';
  readonly sampleRate: number;
  readonly channels: 1;
}

export interface WavAudio {
  readonly format: PcmFormat;
  /** Byte offset of the first sample in the file. */
  readonly dataOffset: number;
  readonly samples: Int16Array;
}

export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
}

export interface WavHeader {
  readonly format: PcmFormat;
  /** Byte offset of the first sample in the file. */
  readonly dataOffset: number;
  /** Bytes of samples the header declares. */
  readonly dataBytes: number;
}

/**
 * Reads the header of a RIFF/WAVE file holding mono 16-bit PCM (the start of
 * the file is enough); chunks other than `fmt ` and `data` (LIST, fact…) are
 * skipped, as the format allows.
 */
export function parseWavHeader(buffer: Buffer): WavHeader {
  if (
    buffer.length < 12 ||
    buffer.toString('ascii', 0, 4) !== 'RIFF' ||
    buffer.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let offset = 12;
  let sampleRate: number | undefined;
  while (offset + 8 <= buffer.length) {
    const id = buffer.toString('ascii', offset, offset + 4);
    const size = buffer.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buffer.length) throw new WavFormatError('short fmt chunk');
      const audioFormat = buffer.readUInt16LE(body);
      const channels = buffer.readUInt16LE(body + 2);
      const bits = buffer.readUInt16LE(body + 14);
      if (audioFormat !== 1 || channels !== 1 || bits !== 16) {
        throw new WavFormatError(
          `want mono 16-bit PCM, got format ${audioFormat}, ${channels} channels, ${bits} bits`,
        );
      }
      sampleRate = buffer.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (sampleRate === undefined) throw new WavFormatError('data before fmt');
      return {
        format: { encoding: 'pcm_s16le', sampleRate, channels: 1 },
        dataOffset: body,
        dataBytes: size,
      };
    }
    offset = body + size + (size % 2);
  }
  throw new WavFormatError('no data chunk');
}

/** A whole RIFF/WAVE buffer of mono 16-bit PCM: header and samples. */
export function parseWav(buffer: Buffer): WavAudio {
  const header = parseWavHeader(buffer);
  // A file cut short declares more than it holds.
  const end = Math.min(buffer.length, header.dataOffset + header.dataBytes);
  const bytes = buffer.subarray(
    header.dataOffset,
    header.dataOffset + ((end - header.dataOffset) & ~1),
  );
  const samples = new Int16Array(bytes.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
  return { format: header.format, dataOffset: header.dataOffset, samples };
}

export async function readWav(path: string): Promise<WavAudio> {
  return parseWav(await readFile(path));
}

/** Splits PCM into frames of `ms` (the last one may be shorter). */
export function* frames(samples: Int16Array, sampleRate: number, ms = 20): Generator<Int16Array> {
  const size = Math.round((sampleRate * ms) / 1000);
  for (let offset = 0; offset < samples.length; offset += size) {
    yield samples.subarray(offset, offset + size);
  }
}
