/**
 * A call token fetched ahead (issue 15 item 4): when a call looks likely (the
 * pointer on the button, focus), the widget asks the company's token
 * endpoint already, so the click does not wait for it (160 ms on loopback,
 * more over the internet). The token is used once (the gateway refuses a
 * replay) and renewed shortly before it expires, a few times at most, so a
 * visitor who hovers and leaves costs the company's endpoint a handful of
 * requests, not one per minute for ever.
 */
import { fetchCallToken, type CallTokenResult, type FetchLike } from './call-token.js';

/** A token this close to its expiry is not used for a new call (the INVITE must reach the gateway first). */
export const TOKEN_MARGIN_MS = 15_000;
/** Renewals of a prefetched token nobody used. */
export const MAX_RENEWALS = 3;

export interface TokenRequest {
  readonly url: string;
  readonly queue: string;
  readonly extra: Readonly<Record<string, string>>;
}

interface Held {
  readonly key: string;
  readonly result: Promise<CallTokenResult>;
  readonly abort: AbortController;
}

export class TokenPrefetch {
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  #held: Held | undefined;
  #renewals = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(fetchFn: FetchLike, now: () => number = Date.now) {
    this.#fetch = fetchFn;
    this.#now = now;
  }

  /**
   * Fetches a token for `request` unless one is held or on its way; the
   * held token's answer (a failure is a failed result; it rejects only when
   * the token is dropped before it came).
   */
  prefetch(request: TokenRequest): Promise<CallTokenResult> {
    const key = keyOf(request);
    if (this.#held?.key === key) return this.#held.result;
    this.#drop();
    this.#renewals = 0;
    return this.#start(request, key).result;
  }

  /**
   * A token for a call now: the prefetched one when it is for the same
   * request, succeeded and is far enough from its expiry (it is handed out
   * once), else a fresh fetch. Rejects only when `signal` aborts.
   */
  async take(request: TokenRequest, signal: AbortSignal): Promise<CallTokenResult> {
    const held = this.#held;
    if (held && held.key === keyOf(request)) {
      this.#held = undefined;
      clearTimeout(this.#timer);
      const result = await held.result.catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      if (result?.ok && Date.parse(result.expiresAt) - this.#now() > TOKEN_MARGIN_MS) return result;
    }
    return fetchCallToken(this.#fetch, request.url, request.queue, signal, request.extra);
  }

  close(): void {
    this.#drop();
  }

  /** Fetches a token for `request` and holds it (renewed before it expires, unused). */
  #start(request: TokenRequest, key: string): Held {
    const abort = new AbortController();
    const result = fetchCallToken(
      this.#fetch,
      request.url,
      request.queue,
      abort.signal,
      request.extra,
    );
    const held: Held = { key, result, abort };
    this.#held = held;
    result.then(
      (r) => {
        if (this.#held !== held) return;
        // A refusal is kept for the hovers (each would ask again) and asked
        // again at the click: take() fetches anew (screening may change its mind).
        if (!r.ok) return;
        if (this.#renewals >= MAX_RENEWALS) return;
        const renewIn = Date.parse(r.expiresAt) - this.#now() - TOKEN_MARGIN_MS - 1000;
        if (!(renewIn > 0)) return;
        this.#timer = setTimeout(() => {
          if (this.#held !== held) return;
          this.#renewals += 1;
          this.#held = undefined;
          this.#start(request, key);
        }, renewIn);
      },
      () => {
        if (this.#held === held) this.#held = undefined;
      },
    );
    return held;
  }

  #drop(): void {
    clearTimeout(this.#timer);
    this.#held?.abort.abort();
    this.#held = undefined;
  }
}

function keyOf(request: TokenRequest): string {
  return JSON.stringify([request.url, request.queue, request.extra]);
}
