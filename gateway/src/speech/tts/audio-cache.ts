/**
 * WAV files on disk by key. A file appears under its name only once complete
 * (written to a `.tmp-` name in the same directory, then renamed: atomic on
 * one filesystem), so a reader, in this process or another gateway sharing
 * the directory, never gets half a file. Hits refresh the file's mtime; past
 * `maxBytes` the least recently used files go, but never one used within
 * `keepRecentMs` (a player may be about to open a path it was just given).
 */
import { randomBytes } from 'node:crypto';
import { open, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import type { Logger } from '../../observability/index.js';
import { parseWavHeader, type WavHeader } from '../pcm.js';

export interface AudioCacheOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly logger: Logger;
  /** Files used this recently are never pruned. Default one hour. */
  readonly keepRecentMs?: number;
}

const TMP_PREFIX = '.tmp-';
/** A temporary file this old belongs to a writer that died. */
const STALE_TMP_MS = 10 * 60_000;
const HEADER_BYTES = 4096;

export class AudioCache {
  readonly dir: string;
  readonly #options: AudioCacheOptions;
  #ready: Promise<void> | undefined;
  #totalBytes = 0;
  #pruning = false;

  constructor(options: AudioCacheOptions) {
    this.dir = options.dir;
    this.#options = options;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The file's header when a complete, readable WAV is there; undefined otherwise. */
  async lookup(name: string): Promise<WavHeader | undefined> {
    await this.#init();
    const path = this.path(name);
    let header: WavHeader;
    try {
      const file = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(HEADER_BYTES);
        const { bytesRead } = await file.read(buffer, 0, HEADER_BYTES, 0);
        header = parseWavHeader(buffer.subarray(0, bytesRead));
        const { size } = await file.stat();
        if (size < header.dataOffset + header.dataBytes) throw new Error('shorter than its header');
      } finally {
        await file.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Not ours, or damaged outside the gateway: make it again.
        this.#options.logger.warn({ path, err: error }, 'speech cache: unreadable file replaced');
        await rm(path, { force: true });
      }
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return header;
  }

  /** Runs `write(tmpPath)`, then renames the result to `name`. The temporary file never stays. */
  async store(name: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
    await this.#init();
    const tmp = this.path(`${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}.wav`);
    try {
      await write(tmp);
      const { size } = await stat(tmp);
      await rename(tmp, this.path(name));
      this.#totalBytes += size;
    } finally {
      await rm(tmp, { force: true });
    }
    if (this.#totalBytes > this.#options.maxBytes && !this.#pruning) {
      this.#pruning = true;
      await this.#prune().finally(() => (this.#pruning = false));
    }
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const now = Date.now();
      for (const entry of await this.#entries()) {
        if (entry.name.startsWith(TMP_PREFIX)) {
          if (now - entry.mtimeMs > STALE_TMP_MS) await rm(entry.path, { force: true });
        } else {
          this.#totalBytes += entry.size;
        }
      }
    })();
    return this.#ready;
  }

  async #prune(): Promise<void> {
    const keepAfter = Date.now() - (this.#options.keepRecentMs ?? 3_600_000);
    const files = (await this.#entries())
      .filter((entry) => !entry.name.startsWith(TMP_PREFIX))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = files.reduce((sum, file) => sum + file.size, 0);
    let removed = 0;
    for (const file of files) {
      if (total <= this.#options.maxBytes || file.mtimeMs > keepAfter) break;
      await rm(file.path, { force: true });
      total -= file.size;
      removed += 1;
    }
    this.#totalBytes = total;
    if (removed > 0) {
      this.#options.logger.info({ removed, bytes: total }, 'speech cache: pruned the oldest files');
    }
  }

  async #entries(): Promise<{ name: string; path: string; size: number; mtimeMs: number }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries = await Promise.all(
      names
        .filter((name) => name.endsWith('.wav'))
        .map(async (name) => {
          const path = this.path(name);
          const info = await stat(path).catch(() => undefined);
          return info ? { name, path, size: info.size, mtimeMs: info.mtimeMs } : undefined;
        }),
    );
    return entries.filter((entry) => entry !== undefined);
  }
}
