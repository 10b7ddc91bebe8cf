/**
 * Prompts decoded once and kept in memory: a player of a cached prompt has
 * its first frame at once instead of opening, reading and decoding the file
 * on every play. Measured in media-apps' benchmark: with a hundred prompts
 * starting together, per-play decoding made the first packet late (the reads
 * queue behind each other on libuv's thread pool); from memory it leaves on
 * the next tick (docs/benchmarks.md, "answer → first prompt packet").
 *
 * Keyed by path, size and modification time (a changed file is decoded
 * again), bounded in bytes (least recently used out first). Files larger than
 * `maxFileBytes` (music) are streamed from disk as before.
 */
import { open, stat } from 'node:fs/promises';
import { decodeWavSamples, parseWavHeader } from './wav.js';
import { pcmStream, wavFile, type PcmSource } from './sources.js';

/** Chunks handed to the player: 100 ms at 8 kHz (subarrays, no copies). */
const CHUNK_SAMPLES = 800;

interface Decoded {
  readonly key: string;
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

export interface DecodedPromptsOptions {
  /** Memory for decoded samples. Default 64 MiB. */
  readonly maxBytes?: number;
  /** Larger files are not cached. Default 4 MiB. */
  readonly maxFileBytes?: number;
}

export class DecodedPrompts {
  readonly #maxBytes: number;
  readonly #maxFileBytes: number;
  /** Insertion order is recency: a hit moves the entry to the end. */
  readonly #entries = new Map<string, Decoded>();
  readonly #loading = new Map<string, Promise<Decoded>>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(options: DecodedPromptsOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxFileBytes = options.maxFileBytes ?? 4 * 1024 * 1024;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A source for the WAV file at `path`: decoded from memory when it fits. Rejects when it cannot be read. */
  async file(path: string): Promise<PcmSource> {
    const info = await stat(path);
    if (info.size > this.#maxFileBytes) return wavFile(path);
    const key = `${path}\u0000${info.size}\u0000${info.mtimeMs}`;
    const hit = this.#entries.get(key);
    if (hit) {
      this.hits += 1;
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return sourceOf(path, hit);
    }
    this.misses += 1;
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = decodeFile(key, path).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    const decoded = await loading;
    this.#store(decoded);
    return sourceOf(path, decoded);
  }

  /** A source for WAV bytes already in memory (a fetched URL). */
  bytesSource(data: Uint8Array, name: string): PcmSource {
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const format = parseWavHeader(buffer.subarray(0, Math.min(buffer.length, 4096)));
    const end =
      format.dataLength === undefined
        ? buffer.length
        : Math.min(buffer.length, format.dataOffset + format.dataLength);
    const body = buffer.subarray(format.dataOffset, end);
    const whole = body.length - (body.length % format.blockAlign);
    const samples = decodeWavSamples(format, body.subarray(0, whole));
    return sourceOf(name, { key: name, samples, sampleRate: format.sampleRate });
  }

  #store(decoded: Decoded): void {
    if (this.#entries.has(decoded.key)) return;
    this.#entries.set(decoded.key, decoded);
    this.#bytes += decoded.samples.byteLength;
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= entry.samples.byteLength;
    }
  }
}

async function decodeFile(key: string, path: string): Promise<Decoded> {
  const handle = await open(path, 'r');
  try {
    const bytes = await handle.readFile();
    const format = parseWavHeader(bytes.subarray(0, Math.min(bytes.length, 4096)));
    const end =
      format.dataLength === undefined
        ? bytes.length
        : Math.min(bytes.length, format.dataOffset + format.dataLength);
    const body = bytes.subarray(format.dataOffset, end);
    const whole = body.length - (body.length % format.blockAlign);
    return {
      key,
      samples: decodeWavSamples(format, body.subarray(0, whole)),
      sampleRate: format.sampleRate,
    };
  } finally {
    await handle.close();
  }
}

function sourceOf(name: string, decoded: Decoded): PcmSource {
  const { samples } = decoded;
  return pcmStream(name, decoded.sampleRate, async function* () {
    for (let at = 0; at < samples.length; at += CHUNK_SAMPLES)
      yield samples.subarray(at, Math.min(samples.length, at + CHUNK_SAMPLES));
  });
}
