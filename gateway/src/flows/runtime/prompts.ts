/**
 * Audio for `play` (and queue music): a WAV file under one of the allowed
 * directories, or a URL under one of the allowed prefixes. Anything else is
 * refused before it is read (a flow from a webhook must not be able to play
 * `/etc/shadow` or make the gateway fetch an internal address). Fetched URLs
 * are cached in memory for a while, by URL.
 */
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Audio } from '../ports.js';
import { VerbError } from './verb-error.js';

export interface PromptSettings {
  /** Directories WAV files may be played from; relative `file`s are read from the first. */
  readonly dirs: readonly string[];
  /** URL prefixes audio may be fetched from (`https://cdn.example/prompts/`). */
  readonly urls: readonly string[];
  readonly fetchTimeoutMs: number;
  readonly maxBytes: number;
  /** How long a fetched URL is reused. */
  readonly cacheSeconds: number;
}

export interface AudioRef {
  readonly file?: string | undefined;
  readonly url?: string | undefined;
}

const CACHE_ENTRIES = 64;

const unavailable = (detail: string): VerbError => new VerbError('prompt_unavailable', detail);

export class PromptLoader {
  readonly #settings: PromptSettings;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  /** URL → bytes, in insertion order (the oldest is dropped first). */
  readonly #cache = new Map<string, { audio: Audio; until: number }>();

  constructor(
    settings: PromptSettings,
    options: { fetch?: typeof fetch; now?: () => number } = {},
  ) {
    this.#settings = settings;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
  }

  /** The audio of a `{ file }` or `{ url }`; rejects with `prompt_unavailable` saying why. */
  load(ref: AudioRef, signal: AbortSignal): Promise<Audio> {
    if (ref.file !== undefined) return this.#file(ref.file);
    if (ref.url !== undefined) return this.#url(ref.url, signal);
    return Promise.reject(unavailable('neither file nor url'));
  }

  async #file(name: string): Promise<Audio> {
    const [first] = this.#settings.dirs;
    if (first === undefined)
      throw unavailable('no prompts.dirs configured: files cannot be played');
    const wanted = isAbsolute(name) ? name : resolve(first, name);
    let real: string;
    try {
      real = await realpath(wanted);
    } catch {
      throw unavailable(`${name}: no such file`);
    }
    // realpath first: a symbolic link inside a directory must not lead out of it.
    const inside = await Promise.all(
      this.#settings.dirs.map(async (dir) => {
        const base = await realpath(dir).catch(() => undefined);
        if (base === undefined) return false;
        const rel = relative(base, real);
        return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
      }),
    );
    if (!inside.some(Boolean)) throw unavailable(`${name}: outside prompts.dirs`);
    let header: Buffer;
    try {
      const handle = await open(real, 'r');
      try {
        header = Buffer.alloc(12);
        await handle.read(header, 0, 12, 0);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw unavailable(
        `${name}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (!isWav(header)) throw unavailable(`${name}: not a WAV file`);
    return { kind: 'file', path: real };
  }

  async #url(url: string, signal: AbortSignal): Promise<Audio> {
    if (!this.allowedUrl(url)) throw unavailable(`${url}: not under prompts.urls`);
    const now = this.#now();
    const hit = this.#cache.get(url);
    if (hit && hit.until > now) return hit.audio;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        redirect: 'error',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#settings.fetchTimeoutMs)]),
      });
    } catch (error) {
      throw unavailable(
        `${url}: ${(error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable'}`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw unavailable(`${url}: HTTP ${response.status}`);
    }
    const data = await readLimited(response, this.#settings.maxBytes).catch((error: Error) => {
      throw unavailable(`${url}: ${error.message}`);
    });
    if (!isWav(data)) throw unavailable(`${url}: not a WAV file`);
    const audio: Audio = { kind: 'wav', data, name: url };
    this.#cache.delete(url);
    this.#cache.set(url, { audio, until: now + this.#settings.cacheSeconds * 1000 });
    if (this.#cache.size > CACHE_ENTRIES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return audio;
  }

  /** Whether a URL lies under an allowed prefix (compared parsed, so `https://a.example@evil/` is not `https://a.example`). */
  allowedUrl(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    if (parsed.username !== '' || parsed.password !== '') return false;
    return this.#settings.urls.some((prefix) => {
      const allowed = new URL(prefix);
      return (
        allowed.origin === parsed.origin &&
        parsed.pathname.startsWith(allowed.pathname) &&
        !parsed.pathname.includes('/../')
      );
    });
  }
}

function isWav(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(12, bytes.length)).toString(
    'latin1',
  );
  return text.startsWith('RIFF') && text.slice(8, 12) === 'WAVE';
}

async function readLimited(response: Response, max: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
