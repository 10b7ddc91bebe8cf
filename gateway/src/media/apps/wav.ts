/**
 * WAV (RIFF) headers and sample formats: what prompt files may be, and the
 * header recordings are written with. Reads PCM 8/16/24/32-bit, IEEE float
 * 32/64, A-law and µ-law, mono or more channels (mixed down), and
 * WAVE_FORMAT_EXTENSIBLE; a data chunk size of 0 or 0xFFFFFFFF (a file still
 * being written, or cut by a crash) means "up to the end of the file".
 */
import alawmulaw from 'alawmulaw';

export type WavEncoding = 'pcm' | 'float' | 'alaw' | 'mulaw';

export interface WavFormat {
  readonly encoding: WavEncoding;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  readonly blockAlign: number;
  /** Where the samples start in the file. */
  readonly dataOffset: number;
  /** Bytes of samples, or undefined: up to the end of the file. */
  readonly dataLength: number | undefined;
}

export class WavError extends Error {
  override readonly name = 'WavError';
}

const FORMAT_TAGS: Record<number, WavEncoding> = { 1: 'pcm', 3: 'float', 6: 'alaw', 7: 'mulaw' };

/**
 * Parses the header from the first bytes of a file (`head` must reach the
 * start of the data chunk: 4 KiB is plenty for the files met in practice).
 */
export function parseWavHeader(head: Buffer): WavFormat {
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF') {
    throw new WavError('not a RIFF file');
  }
  if (head.toString('latin1', 8, 12) !== 'WAVE') throw new WavError('not a WAVE file');
  let offset = 12;
  let fmt: Omit<WavFormat, 'dataOffset' | 'dataLength'> | undefined;
  while (offset + 8 <= head.length) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > head.length) throw new WavError('truncated fmt chunk');
      let tag = head.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the sub-format GUID.
      if (tag === 0xfffe && size >= 40 && body + 26 <= head.length)
        tag = head.readUInt16LE(body + 24);
      const encoding = FORMAT_TAGS[tag];
      if (!encoding) throw new WavError(`unsupported WAV format tag ${tag}`);
      const channels = head.readUInt16LE(body + 2);
      const sampleRate = head.readUInt32LE(body + 4);
      const blockAlign = head.readUInt16LE(body + 12);
      const bitsPerSample = head.readUInt16LE(body + 14);
      const bytes = blockAlign / Math.max(1, channels);
      const valid =
        channels >= 1 &&
        sampleRate >= 1000 &&
        sampleRate <= 384000 &&
        Number.isInteger(bytes) &&
        (encoding === 'pcm'
          ? [1, 2, 3, 4].includes(bytes)
          : encoding === 'float'
            ? [4, 8].includes(bytes)
            : bytes === 1);
      if (!valid) {
        throw new WavError(
          `unsupported WAV layout: ${encoding}, ${channels} channels, ${bitsPerSample} bits, ${sampleRate} Hz`,
        );
      }
      fmt = { encoding, channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('data chunk before fmt chunk');
      const open = size === 0 || size === 0xffffffff;
      return { ...fmt, dataOffset: body, dataLength: open ? undefined : size };
    }
    // Chunks are word-aligned (a pad byte after an odd size).
    offset = body + size + (size & 1);
  }
  throw new WavError(fmt ? 'no data chunk in the first bytes' : 'no fmt chunk');
}

const { alaw, mulaw } = alawmulaw;

/** Decodes whole sample frames (`bytes.length` a multiple of blockAlign) to mono 16-bit PCM. */
export function decodeWavSamples(format: WavFormat, bytes: Buffer): Int16Array {
  const { channels, blockAlign, encoding } = format;
  const bytesPerSample = blockAlign / channels;
  const frames = Math.floor(bytes.length / blockAlign);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f += 1) {
    let sum = 0;
    for (let c = 0; c < channels; c += 1) {
      const at = f * blockAlign + c * bytesPerSample;
      sum += sampleAt(bytes, at, encoding, bytesPerSample);
    }
    const v = Math.round(sum / channels);
    out[f] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

function sampleAt(bytes: Buffer, at: number, encoding: WavEncoding, size: number): number {
  switch (encoding) {
    case 'pcm':
      if (size === 2) return bytes.readInt16LE(at);
      if (size === 1) return (bytes[at]! - 128) << 8; // 8-bit WAV is unsigned
      if (size === 3) return bytes.readIntLE(at, 3) >> 8;
      return bytes.readInt32LE(at) >> 16;
    case 'float':
      return (size === 4 ? bytes.readFloatLE(at) : bytes.readDoubleLE(at)) * 32767;
    case 'alaw':
      return alaw.decodeSample(bytes[at]!);
    case 'mulaw':
      return mulaw.decodeSample(bytes[at]!);
  }
}

/**
 * The 44-byte header of a 16-bit PCM WAV holding `dataBytes` of samples. A
 * recording rewrites it as it grows, so the file is valid at every moment.
 */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}
