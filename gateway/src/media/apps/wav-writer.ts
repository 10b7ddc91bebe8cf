/**
 * A WAV file written as it is recorded, valid at every moment: the header
 * (with the length so far) is rewritten and the samples written out at least
 * once a second, so a gateway that crashes (or is killed) leaves a playable
 * file up to about its last second. Writes are queued one after another on
 * the file handle; the recording never waits for the disk.
 *
 * A write that fails (a full disk, the file removed from under us, an
 * unwritable path) is reported once through `onError` and the writer stops:
 * the call goes on without its recording.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { wavHeader } from './wav.js';

export const FLUSH_MS = 1000;

export class WavWriter {
  readonly path: string;
  readonly sampleRate: number;
  readonly #onError: (error: Error) => void;
  #handle: Promise<FileHandle | undefined>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes of samples handed to the file so far. */
  #written = 0;
  #queue: Promise<void> = Promise.resolve();
  #failed = false;
  #closed: Promise<void> | undefined;

  constructor(path: string, sampleRate: number, onError: (error: Error) => void) {
    this.path = path;
    this.sampleRate = sampleRate;
    this.#onError = onError;
    this.#handle = open(path, 'w').then(
      async (handle) => {
        try {
          // A valid empty file at once.
          await handle.write(wavHeader(sampleRate, 1, 0), 0, 44, 0);
          return handle;
        } catch (error) {
          this.#fail(error);
          await handle.close().catch(() => undefined);
          return undefined;
        }
      },
      (error: unknown) => {
        this.#fail(error);
        return undefined;
      },
    );
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Samples recorded so far (written or waiting), as seconds. */
  get seconds(): number {
    return (this.#written + this.#pendingBytes) / 2 / this.sampleRate;
  }

  /** Buffers one frame; written at the next flush. */
  append(pcm: Int16Array): void {
    if (this.#failed || this.#closed) return;
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
  }

  /** Writes what is buffered, then the header with the new length. */
  flush(): Promise<void> {
    if (this.#failed || this.#pendingBytes === 0) return this.#queue;
    const data = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    const offset = 44 + this.#written;
    this.#written += data.length;
    const total = this.#written;
    this.#queue = this.#queue.then(async () => {
      const handle = await this.#handle;
      if (!handle || this.#failed) return;
      try {
        await writeFully(handle, data, offset);
        await handle.write(wavHeader(this.sampleRate, 1, total), 0, 44, 0);
      } catch (error) {
        this.#fail(error);
      }
    });
    return this.#queue;
  }

  /** Flushes and closes the file (safe twice). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.flush();
      const handle = await this.#handle;
      await handle?.close().catch((error: unknown) => this.#fail(error));
    })();
    return this.#closed;
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onError(error instanceof Error ? error : new Error(String(error)));
  }
}

/** FileHandle.write may write less than asked (a full disk writes part, then fails). */
async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}
