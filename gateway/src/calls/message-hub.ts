/**
 * The supplemental data channel's other half: every message a visitor sends
 * on the WebRTC data channel, or an agent sends on the agent-side WebSocket
 * API, is checked against the shared schema and limits, stored with the call
 * in order, and relayed to the other side. Nothing is lost: a message to a
 * visitor whose channel is not open yet is stored and counted as undelivered.
 */
import {
  MAX_MESSAGE_BYTES,
  MESSAGE_BURST,
  MESSAGE_RATE_PER_SECOND,
  parseMessage,
  type GatewayNotice,
  type StoredMessage,
} from '@parley/shared/protocol';
import type { Logger } from '../observability/index.js';
import { TokenBuckets } from '../sbc/token-bucket.js';
import type { MessageStore } from '../storage/index.js';
import type { Call } from './call.js';

/** An agent-side subscriber (a WebSocket of the API, later the desk). */
export interface MessageSubscriber {
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** A refusal names the refused message's id (`ref`) when the frame had a readable one. */
export type MessageResult =
  | { ok: true; stored: StoredMessage; delivered: boolean }
  | { ok: false; reason: string; ref?: string };

export class MessageHub {
  readonly #store: MessageStore;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #rates: TokenBuckets;
  readonly #subscribers = new Map<string, Set<MessageSubscriber>>();
  readonly #onMessage: ((from: 'visitor' | 'agent', ok: boolean) => void) | undefined;

  constructor(deps: {
    store: MessageStore;
    logger: Logger;
    now?: () => number;
    onMessage?: (from: 'visitor' | 'agent', ok: boolean) => void;
  }) {
    this.#store = deps.store;
    this.#log = deps.logger.child({ module: 'messages' });
    this.#now = deps.now ?? Date.now;
    // The hub's clock, not Date.now: the rate limit must follow the same time as the stored timestamps.
    this.#rates = new TokenBuckets({
      perSecond: MESSAGE_RATE_PER_SECOND,
      burst: MESSAGE_BURST,
      now: this.#now,
    });
    this.#onMessage = deps.onMessage;
  }

  /** Wires a call: its visitor's frames come here; its end closes the agent sockets. */
  attach(call: Call): void {
    call.on('visitorMessage', (frame) => {
      const result = this.#accept(call.id, 'visitor', frame);
      if (!result.ok) {
        call.sendToVisitor(rejectedNotice(result));
        return;
      }
      this.#broadcast(call.id, JSON.stringify(result.stored));
    });
    call.once('ended', (record) => {
      const subscribers = this.#subscribers.get(call.id);
      this.#subscribers.delete(call.id);
      for (const s of subscribers ?? []) {
        s.send(notice({ type: 'notice', code: 'call_ended', reason: record.reason ?? 'ended' }));
        s.close(1000, 'call ended');
      }
    });
  }

  /** An agent-side socket for a call: gets the history, then every new message. */
  subscribe(callId: string, subscriber: MessageSubscriber): () => void {
    for (const stored of this.#store.list(callId)) subscriber.send(JSON.stringify(stored));
    const set = this.#subscribers.get(callId) ?? new Set<MessageSubscriber>();
    set.add(subscriber);
    this.#subscribers.set(callId, set);
    return () => {
      set.delete(subscriber);
      // An ended call's `ended` handler will not run again to drop its entry (a
      // socket attached after the end): the last subscriber out removes it.
      if (set.size === 0 && this.#subscribers.get(callId) === set) this.#subscribers.delete(callId);
    };
  }

  /** A frame from the agent side for the call's visitor. */
  fromAgent(call: Call, frame: string): MessageResult {
    const result = this.#accept(call.id, 'agent', frame);
    if (!result.ok) return result;
    const delivered = call.sendToVisitor(JSON.stringify(result.stored.message));
    this.#broadcast(call.id, JSON.stringify(result.stored));
    return { ...result, delivered };
  }

  history(callId: string): StoredMessage[] {
    return this.#store.list(callId);
  }

  #accept(callId: string, from: 'visitor' | 'agent', frame: string): MessageResult {
    if (!this.#rates.take(`${callId}\n${from}`)) return this.#refused(callId, from, 'rate limited');
    const checked = parseMessage(frame);
    if (!checked.ok) return this.#refused(callId, from, checked.reason, checked.id);
    const stored = this.#store.append(callId, from, checked.message, this.#now());
    this.#onMessage?.(from, true);
    return { ok: true, stored, delivered: false };
  }

  #refused(callId: string, from: 'visitor' | 'agent', reason: string, ref?: string): MessageResult {
    this.#onMessage?.(from, false);
    this.#log.info({ callId, from, reason }, 'message refused');
    return ref === undefined ? { ok: false, reason } : { ok: false, reason, ref };
  }

  #broadcast(callId: string, frame: string): void {
    for (const s of this.#subscribers.get(callId) ?? []) s.send(frame);
  }
}

function notice(value: GatewayNotice): string {
  return JSON.stringify(value);
}

/** The `message_rejected` notice for a refusal, with `ref` when the refused message had an id. */
export function rejectedNotice(result: { reason: string; ref?: string }): string {
  return notice({
    type: 'notice',
    code: 'message_rejected',
    reason: result.reason,
    ...(result.ref === undefined ? {} : { ref: result.ref }),
  });
}

export { MAX_MESSAGE_BYTES };
