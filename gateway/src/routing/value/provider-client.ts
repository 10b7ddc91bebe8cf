/**
 * A company's scoring endpoint (benefit or burden): `POST <url>` with
 * `{ tenant, customerId, history }`, answering `{ "score": <number> }`. Called
 * with a timeout and retries, answers cached briefly per customer; any failure
 * (timeout, HTTP error, a body that is not that JSON, a body too large) gives
 * the configured default, marked as a fallback with the reason.
 */
import type { ProviderScore } from './types.js';

export interface ProviderConfig {
  readonly url: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly cacheSeconds: number;
  /** The score used when the provider fails. */
  readonly default: number;
  /** Sent as `Authorization: Bearer <secret>` when set. */
  readonly secret?: string | undefined;
}

const MAX_BODY_BYTES = 16 * 1024;

export class ProviderClient {
  readonly #config: ProviderConfig;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #cache = new Map<string, { score: number; until: number }>();

  constructor(config: ProviderConfig, options: { fetch?: typeof fetch; now?: () => number } = {}) {
    this.#config = config;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
  }

  async score(
    tenant: string,
    customerId: string | undefined,
    context: Record<string, unknown>,
  ): Promise<ProviderScore> {
    const started = this.#now();
    if (customerId === undefined) {
      return {
        score: this.#config.default,
        fallback: true,
        error: 'no_customer_id',
        ms: 0,
        cached: false,
      };
    }
    const key = `${tenant}\n${customerId}`;
    const hit = this.#cache.get(key);
    if (hit && hit.until > started)
      return { score: hit.score, fallback: false, ms: 0, cached: true };
    let error = 'unknown';
    for (let attempt = 0; attempt <= this.#config.retries; attempt += 1) {
      const result = await this.#once(tenant, customerId, context);
      if (typeof result === 'number') {
        if (this.#cache.size > 10_000) this.#cache.clear();
        this.#cache.set(key, {
          score: result,
          until: this.#now() + this.#config.cacheSeconds * 1000,
        });
        return { score: result, fallback: false, ms: this.#now() - started, cached: false };
      }
      error = result.error;
      // A body we cannot read will not improve on a retry.
      if (error === 'bad_body' || error === 'too_large' || error.startsWith('http_4')) break;
    }
    return {
      score: this.#config.default,
      fallback: true,
      error,
      ms: this.#now() - started,
      cached: false,
    };
  }

  async #once(
    tenant: string,
    customerId: string,
    context: Record<string, unknown>,
  ): Promise<number | { error: string }> {
    let response: Response;
    try {
      response = await this.#fetch(this.#config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.#config.secret ? { authorization: `Bearer ${this.#config.secret}` } : {}),
        },
        body: JSON.stringify({ tenant, customerId, ...context }),
        signal: AbortSignal.timeout(this.#config.timeoutMs),
      });
    } catch (error) {
      return { error: (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return { error: `http_${response.status}` };
    }
    let text: string;
    try {
      text = await readLimited(response, MAX_BODY_BYTES);
    } catch (error) {
      return { error: (error as Error).message === 'too_large' ? 'too_large' : 'timeout' };
    }
    try {
      const body = JSON.parse(text) as { score?: unknown };
      if (typeof body.score === 'number' && Number.isFinite(body.score)) return body.score;
    } catch {
      // falls through
    }
    return { error: 'bad_body' };
  }
}

async function readLimited(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error('too_large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
