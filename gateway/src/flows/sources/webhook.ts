/**
 * A flow served by the company's webhook (the TwiML / jambonz application
 * model): `POST <url>` with the call's context answers JSON verbs; each verb
 * with an `actionHook` posts its result and the answer replaces the rest of
 * the flow; every event of the call goes to `statusUrl` (status callbacks).
 *
 * A request that times out, fails, or answers something that is not a valid
 * list of verbs gives no verbs: the runner runs the fallback flow and the
 * record says why (`source.error`). Requests are signed when a secret is set:
 * `X-Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
 */
import { createHmac } from 'node:crypto';
import type { FlowEvent } from '@parley/shared/protocol';
import type { Logger } from '../../observability/index.js';
import { readAnswer } from './answer.js';
import type { FlowRequest, FlowSource, SourceAnswer } from './source.js';

export interface WebhookSettings {
  readonly url: string;
  /** Where status callbacks go; default `url`. */
  readonly statusUrl: string | undefined;
  readonly timeoutMs: number;
  /** Signs every request (`X-Parley-Signature`). */
  readonly secret: string | undefined;
  /** Status callbacks: off, or every event. */
  readonly statusEvents: boolean;
  readonly fallback: string | undefined;
}

/** Answers larger than this are refused (100 verbs of long say texts fit easily). */
export const MAX_ANSWER_BYTES = 256 * 1024;
/** Status callbacks waiting per call; beyond it the oldest undelivered are dropped (a slow receiver must not hold memory). */
const MAX_PENDING_STATUS = 200;

export class WebhookSource implements FlowSource {
  readonly kind = 'webhook' as const;
  readonly name: string;
  readonly fallback: string | undefined;
  readonly #settings: WebhookSettings;
  readonly #origin: string;
  readonly #fetch: typeof fetch;
  readonly #log: Logger;
  /** Per call: status callbacks are delivered one at a time, in order. */
  readonly #statusQueues = new Map<string, { running: boolean; pending: FlowEvent[] }>();

  constructor(
    name: string,
    settings: WebhookSettings,
    deps: { logger: Logger; fetch?: typeof fetch },
  ) {
    this.name = name;
    this.fallback = settings.fallback;
    this.#settings = settings;
    this.#origin = new URL(settings.url).origin;
    this.#fetch = deps.fetch ?? fetch;
    this.#log = deps.logger.child({ module: 'flow-webhook', flow: name });
  }

  start(request: FlowRequest, signal: AbortSignal): Promise<SourceAnswer> {
    return this.#ask(this.#settings.url, request, signal, false);
  }

  action(hook: true | string, request: FlowRequest, signal: AbortSignal): Promise<SourceAnswer> {
    const url = hook === true ? this.#settings.url : hook;
    if (new URL(url).origin !== this.#origin)
      return Promise.resolve({
        ok: false,
        reason: 'invalid_options',
        detail: 'actionHook off the webhook origin',
      });
    return this.#ask(url, request, signal, true);
  }

  status(event: FlowEvent): void {
    if (!this.#settings.statusEvents) return;
    let queue = this.#statusQueues.get(event.callId);
    if (!queue) {
      queue = { running: false, pending: [] };
      this.#statusQueues.set(event.callId, queue);
    }
    queue.pending.push(event);
    if (queue.pending.length > MAX_PENDING_STATUS) queue.pending.shift();
    if (!queue.running) void this.#drain(event.callId, queue);
  }

  async #drain(callId: string, queue: { running: boolean; pending: FlowEvent[] }): Promise<void> {
    queue.running = true;
    for (let event = queue.pending.shift(); event; event = queue.pending.shift()) {
      const url = this.#settings.statusUrl ?? this.#settings.url;
      try {
        const response = await this.#post(
          url,
          { event: 'status', ...event },
          AbortSignal.timeout(this.#settings.timeoutMs),
        );
        await response.body?.cancel().catch(() => undefined);
        if (!response.ok)
          this.#log.debug({ status: response.status, callId }, 'status callback refused');
      } catch (error) {
        this.#log.debug({ err: error, callId }, 'status callback failed');
      }
    }
    queue.running = false;
    this.#statusQueues.delete(callId);
  }

  async #ask(
    url: string,
    request: FlowRequest,
    signal: AbortSignal,
    isAction: boolean,
  ): Promise<SourceAnswer> {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.#settings.timeoutMs)]);
    let response: Response;
    try {
      response = await this.#post(url, request, deadline);
    } catch (error) {
      const timeout = (error as Error).name === 'TimeoutError';
      return {
        ok: false,
        reason: timeout ? 'timeout' : 'unreachable',
        detail: timeout ? `no answer in ${this.#settings.timeoutMs} ms` : (error as Error).message,
      };
    }
    if (response.status === 204 && isAction) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: true, verbs: undefined };
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return {
        ok: false,
        reason: `http_${response.status}`,
        detail: `${url} answered ${response.status}`,
      };
    }
    let text: string;
    try {
      text = await readLimited(response, MAX_ANSWER_BYTES, deadline);
    } catch (error) {
      const message = (error as Error).message;
      return message === 'too_large'
        ? { ok: false, reason: 'too_large', detail: `larger than ${MAX_ANSWER_BYTES} bytes` }
        : {
            ok: false,
            reason: 'timeout',
            detail: `no whole answer in ${this.#settings.timeoutMs} ms`,
          };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return {
        ok: false,
        reason: 'not_json',
        detail: `${response.headers.get('content-type') ?? 'no content-type'}: ${text.slice(0, 80)}`,
      };
    }
    return readAnswer(value, this.#origin);
  }

  #post(url: string, body: unknown, signal: AbortSignal): Promise<Response> {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'Parley',
    };
    if (this.#settings.secret !== undefined)
      headers['x-parley-signature'] = sign(this.#settings.secret, text);
    return this.#fetch(url, { method: 'POST', headers, body: text, signal, redirect: 'error' });
  }
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver checks it and the time. */
export function sign(secret: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

async function readLimited(response: Response, max: number, signal: AbortSignal): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const onAbort = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw new Error('timeout');
      if (done) break;
      size += value.length;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw new Error('too_large');
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks).toString('utf8');
}
