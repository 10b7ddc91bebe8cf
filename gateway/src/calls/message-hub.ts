/**
 * The supplemental data channel's other half: every message a visitor sends
 * on the WebRTC data channel, or an agent sends on the agent-side WebSocket
 * API, is checked against the shared schema and limits, stored with the call
 * in order, and relayed to the other side. Nothing is lost: a message to a
 * visitor whose channel is not open yet is stored and counted as undelivered.
 *
 * The hub numbers each call's messages itself (only the gateway running the
 * call takes its messages) and writes them behind: relaying never waits for
 * the database; a failed write is logged. A subscriber gets the stored
 * history first, then the new messages, none twice.
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
  /** The last seq given, per call in progress. */
  readonly #seq = new Map<string, number>();
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
      this.#seq.delete(call.id);
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
    // Frames broadcast while the history is read wait, and go after it unless it had them.
    let held: { frame: string; seq: number | undefined }[] | undefined = [];
    let closing: [number, string] | undefined;
    const entry: MessageSubscriber = {
      send: (frame) => (held ? held.push({ frame, seq: seqOf(frame) }) : subscriber.send(frame)),
      close: (code, reason) => (held ? (closing = [code, reason]) : subscriber.close(code, reason)),
    };
    const flush = (history: readonly StoredMessage[]) => {
      const last = history.at(-1)?.seq ?? 0;
      for (const stored of history) subscriber.send(JSON.stringify(stored));
      for (const h of held ?? []) if (h.seq === undefined || h.seq > last) subscriber.send(h.frame);
      held = undefined;
      if (closing) subscriber.close(...closing);
    };
    this.#store.list(callId).then(flush, (err: unknown) => {
      this.#log.error({ err, callId }, 'message history not read');
      flush([]);
    });
    const set = this.#subscribers.get(callId) ?? new Set<MessageSubscriber>();
    set.add(entry);
    this.#subscribers.set(callId, set);
    return () => {
      set.delete(entry);
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

  history(callId: string): Promise<StoredMessage[]> {
    return this.#store.list(callId);
  }

  #accept(callId: string, from: 'visitor' | 'agent', frame: string): MessageResult {
    if (!this.#rates.take(`${callId}\n${from}`)) return this.#refused(callId, from, 'rate limited');
    const checked = parseMessage(frame);
    if (!checked.ok) return this.#refused(callId, from, checked.reason, checked.id);
    const seq = (this.#seq.get(callId) ?? 0) + 1;
    this.#seq.set(callId, seq);
    const stored: StoredMessage = {
      seq,
      from,
      receivedAt: new Date(this.#now()).toISOString(),
      message: checked.message,
    };
    this.#store
      .append(callId, stored)
      .catch((err: unknown) => this.#log.error({ err, callId, seq }, 'message not stored'));
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

/** The seq of a broadcast frame (a stored message), undefined for a notice. */
function seqOf(frame: string): number | undefined {
  const seq = (JSON.parse(frame) as { seq?: unknown }).seq;
  return typeof seq === 'number' ? seq : undefined;
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
