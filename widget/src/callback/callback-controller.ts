/**
 * The callback form's behaviour as a Lit ReactiveController: checks the
 * number (libphonenumber-js), asks the company's token endpoint and the
 * gateway, follows the progress stream, and fires the element's events:
 * `parley-callback` on every phase, `parley-error` for a number that is not
 * one, a refusal, or a callback that ended without a conversation.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { CallbackEvent } from '@parley/shared/protocol';
import { humanMessage } from '@parley/shared/errors';
import type { ParleyErrorDetail } from '../api/events.js';
import type { FetchLike } from '../client/call-token.js';
import {
  cancelCallback,
  requestCallback,
  watchCallback,
  type CallbackRequest,
} from './callback-client.js';
import { isOver, type CallbackStatus, type CallbackViewPhase } from './callback-text.js';
import { checkPhone } from './phone.js';

/** `parley-callback`: where the visitor's callback is. */
export interface ParleyCallbackDetail {
  readonly phase: CallbackViewPhase;
  /** The callback's id once the gateway took it. */
  readonly id?: string;
  readonly attempt?: number;
  readonly dueAt?: string | null;
  readonly outcome?: string | null;
  readonly code?: string | null;
}

export interface CallbackAsk {
  readonly phone: string;
  readonly country: string | undefined;
  /** `now`, `agent-free`, or an ISO time. */
  readonly when: string;
}

export interface CallbackControllerOptions {
  /** The element's attributes, read when the visitor asks. */
  settings(): Omit<CallbackRequest, 'phone' | 'country' | 'when'>;
  readonly fetch?: FetchLike;
  readonly EventSource?: typeof EventSource;
}

export class CallbackController implements ReactiveController {
  status: CallbackStatus = { phase: 'form' };
  /** Why the number field is wrong (shown beside it), or undefined. */
  fieldError: string | undefined;
  id: string | undefined;

  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #o: CallbackControllerOptions;
  readonly #fetch: FetchLike;
  #stopWatching: (() => void) | undefined;
  #cancelUrl: string | undefined;
  #abort: AbortController | undefined;

  constructor(host: ReactiveControllerHost & HTMLElement, options: CallbackControllerOptions) {
    this.#host = host;
    this.#o = options;
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    host.addController(this);
  }

  hostConnected(): void {}

  /** The page goes away: stop listening. The callback itself goes on (the phone rings anyway). */
  hostDisconnected(): void {
    this.#abort?.abort();
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  get busy(): boolean {
    return !isOver(this.status.phase);
  }

  /** Checks the number, then asks. Resolves once the request was answered (or refused). */
  async ask(ask: CallbackAsk): Promise<void> {
    if (this.busy) return;
    const checked = checkPhone(ask.phone, ask.country);
    if (!checked.ok) {
      this.invalid(checked.code, checked.message);
      return;
    }
    this.fieldError = undefined;
    this.id = undefined;
    this.#set({ phase: 'sending', when: ask.when });
    const abort = new AbortController();
    this.#abort = abort;
    let result;
    try {
      result = await requestCallback(
        this.#fetch,
        { ...this.#o.settings(), phone: checked.e164, country: checked.country, when: ask.when },
        abort.signal,
      );
    } catch {
      return; // aborted: the element left the page
    }
    if (!result.ok) {
      this.#set({ phase: 'refused', code: result.code });
      this.#error(result);
      return;
    }
    this.id = result.id;
    this.#cancelUrl = result.cancel;
    this.#set({ phase: 'scheduled', when: ask.when, dueAt: result.dueAt, attempt: 0 });
    this.#stopWatching = watchCallback(
      result.events,
      (event) => this.#progress(event, ask.when),
      this.#o.EventSource,
    );
  }

  /**
   * The form cannot be sent as it is (a number that is not one, no consent,
   * no time): says why beside the fields and fires `parley-error`; nothing is asked.
   */
  invalid(code: string, message: string): void {
    this.fieldError = message;
    this.#host.requestUpdate();
    this.#error({ code, message, human: code === 'number_invalid' ? humanMessage(code) : message });
  }

  /** Cancels the callback asked for (a live call is hung up by the gateway). */
  async cancel(): Promise<void> {
    if (!this.busy || this.#cancelUrl === undefined) return;
    await cancelCallback(this.#fetch, this.#cancelUrl);
    // The `ended` event follows on the stream.
  }

  /** Back to the empty form after the callback is over. */
  reset(): void {
    if (this.busy) return;
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    this.#cancelUrl = undefined;
    this.id = undefined;
    this.#set({ phase: 'form' });
  }

  #progress(event: CallbackEvent, when: string): void {
    this.#set({
      phase: event.phase,
      when,
      dueAt: event.dueAt,
      attempt: event.attempt,
      outcome: event.outcome,
      code: event.code,
    });
    if (event.phase === 'ended') {
      this.#stopWatching = undefined;
      if (event.outcome !== 'completed' && event.code)
        this.#error({
          code: event.code,
          message: `callback ${event.id} ended ${event.outcome ?? ''}`,
          human: humanMessage(event.code),
        });
    }
  }

  #set(status: CallbackStatus): void {
    this.status = status;
    this.#host.requestUpdate();
    const detail: ParleyCallbackDetail = {
      phase: status.phase,
      ...(this.id === undefined ? {} : { id: this.id }),
      ...(status.attempt === undefined ? {} : { attempt: status.attempt }),
      ...(status.dueAt === undefined ? {} : { dueAt: status.dueAt }),
      ...(status.outcome === undefined ? {} : { outcome: status.outcome }),
      ...(status.code === undefined ? {} : { code: status.code }),
    };
    this.#host.dispatchEvent(
      new CustomEvent('parley-callback', { detail, bubbles: true, composed: true }),
    );
  }

  #error(detail: ParleyErrorDetail): void {
    this.#host.dispatchEvent(
      new CustomEvent('parley-error', { detail, bubbles: true, composed: true }),
    );
  }
}
