/**
 * Messages on the call's data channel (visitor ↔ gateway ↔ agent), and the
 * limits both ends enforce. JSON text frames; every message has a type, an id
 * chosen by the sender and a timestamp. The gateway stores each one with the
 * call record, in order, and relays it to the other side.
 */

/** Label of the RTCDataChannel the widget opens beside the audio. */
export const DATA_CHANNEL_LABEL = 'parley';
/** Largest message, in bytes of its JSON text. */
export const MAX_MESSAGE_BYTES = 4096;
/** Messages per second one side may send (burst 20). */
export const MESSAGE_RATE_PER_SECOND = 10;
export const MESSAGE_BURST = 20;

export interface ChatMessage {
  readonly type: 'chat';
  readonly id: string;
  readonly at: string;
  readonly text: string;
}

/** Form fields the visitor filled in (an order number, a contact address). */
export interface FormMessage {
  readonly type: 'form';
  readonly id: string;
  readonly at: string;
  readonly form: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** The visitor moved to another page of the site during the call. */
export interface NavigationMessage {
  readonly type: 'navigation';
  readonly id: string;
  readonly at: string;
  readonly url: string;
  readonly title?: string;
}

/** Anything else the company's page wants to pass (a cart, a product id). */
export interface CustomMessage {
  readonly type: 'custom';
  readonly id: string;
  readonly at: string;
  readonly name: string;
  readonly data: unknown;
}

export type ParleyMessage = ChatMessage | FormMessage | NavigationMessage | CustomMessage;
export type ParleyMessageType = ParleyMessage['type'];

/** A message as stored and relayed: who sent it and its place in the call. */
export interface StoredMessage {
  readonly seq: number;
  readonly from: 'visitor' | 'agent';
  readonly receivedAt: string;
  readonly message: ParleyMessage;
}

/**
 * A refusal carries the frame's `id` when one could be read, so the sender can
 * tell which of its messages was refused (`ref` of the `message_rejected` notice).
 */
export type MessageCheck =
  { ok: true; message: ParleyMessage } | { ok: false; reason: string; id?: string };

const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * Checks a received frame against the schema and the size limit. Returns the
 * message or why it was refused; never throws.
 */
export function parseMessage(frame: unknown): MessageCheck {
  if (typeof frame !== 'string') return { ok: false, reason: 'not a text frame' };
  if (utf8Length(frame) > MAX_MESSAGE_BYTES) return { ok: false, reason: 'too large' };
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'not an object' };
  const m = value as Record<string, unknown>;
  const id = m['id'];
  const refused = (reason: string): MessageCheck =>
    isText(id, 100) ? { ok: false, reason, id } : { ok: false, reason };
  if (!isText(id, 100) || !isText(m['at'], 40)) return refused('id and at are required');
  switch (m['type']) {
    case 'chat':
      return isText(m['text'], 2000)
        ? { ok: true, message: m as unknown as ChatMessage }
        : refused('chat needs text');
    case 'form': {
      const fields = m['fields'];
      const ok =
        isText(m['form'], 100) &&
        typeof fields === 'object' &&
        fields !== null &&
        !Array.isArray(fields) &&
        Object.values(fields).every((v) => typeof v === 'string');
      return ok
        ? { ok: true, message: m as unknown as FormMessage }
        : refused('form needs a name and string fields');
    }
    case 'navigation':
      return isText(m['url'], 2000) && (m['title'] === undefined || typeof m['title'] === 'string')
        ? { ok: true, message: m as unknown as NavigationMessage }
        : refused('navigation needs a url');
    case 'custom':
      return isText(m['name'], 100)
        ? { ok: true, message: m as unknown as CustomMessage }
        : refused('custom needs a name');
    default:
      return refused('unknown type');
  }
}

const encoder = new TextEncoder();
/** Bytes of a string in UTF-8 (works in browsers and Node). */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/**
 * What the gateway itself says on a message channel (never stored, never
 * accepted from a peer): a message refused, or the call ended.
 */
export type GatewayNotice =
  | {
      readonly type: 'notice';
      readonly code: 'message_rejected';
      readonly ref?: string;
      readonly reason: string;
    }
  | { readonly type: 'notice'; readonly code: 'call_ended'; readonly reason: string }
  /** The agent put the visitor on hold (`held: true`) or took them off it. */
  | {
      readonly type: 'notice';
      readonly code: 'hold';
      readonly held: boolean;
      readonly reason: string;
    }
  /**
   * No agent took the call: the gateway's voicemail records the visitor
   * (`recording: true`, after the greeting and the beep) or stopped (`false`:
   * the message ended, or an agent took the call). docs/voicemail.md.
   */
  | {
      readonly type: 'notice';
      readonly code: 'voicemail';
      readonly recording: boolean;
      readonly reason: string;
    };
