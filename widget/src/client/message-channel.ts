/**
 * The visitor's side of the call's message channel (the WebRTC data channel,
 * `@parley/shared/protocol`): what goes out is checked before it is sent,
 * what comes in is told apart (a message, a gateway notice, the queue
 * status), and the page the visitor calls from is announced once it opens.
 */
import {
  MAX_MESSAGE_BYTES,
  parseMessage,
  parseQueueStatus,
  utf8Length,
  type GatewayNotice,
  type ParleyMessage,
} from '@parley/shared/protocol';
import type { CallClientEvents } from '../api/call-stack.js';
import { MessageRejectedError } from '../api/message-rejected-error.js';
import type { Attempt } from './attempt.js';
import type { Emitter } from './emitter.js';

/** The frame to send and the message as the protocol reads it; throws MessageRejectedError. */
export function encodeMessage(message: ParleyMessage): {
  readonly frame: string;
  readonly message: ParleyMessage;
} {
  let frame: string;
  try {
    frame = JSON.stringify(message);
  } catch (error) {
    throw new MessageRejectedError('invalid', `not serialisable: ${String(error)}`);
  }
  if (typeof frame !== 'string') throw new MessageRejectedError('invalid', 'not an object');
  const bytes = utf8Length(frame);
  if (bytes > MAX_MESSAGE_BYTES)
    throw new MessageRejectedError('too_large', `${bytes} bytes, limit ${MAX_MESSAGE_BYTES}`);
  const check = parseMessage(frame);
  if (!check.ok) throw new MessageRejectedError('invalid', check.reason);
  return { frame, message: check.message };
}

/**
 * Follows the attempt's data channel: `channel` when it opens or closes, what
 * arrives while the attempt lasts; once open, the page is announced.
 */
export function adoptChannel(
  attempt: Attempt,
  channel: RTCDataChannel,
  events: Emitter<CallClientEvents>,
  announcement: () => ParleyMessage | undefined,
): void {
  attempt.channel = channel;
  const setOpen = (open: boolean): void => {
    if (attempt.over || attempt.channelOpen === open) return;
    attempt.channelOpen = open;
    events.emit('channel', open);
  };
  const announce = (): void => {
    const message = announcement();
    if (!message) return;
    try {
      channel.send(JSON.stringify(message));
    } catch {
      // The channel closed in between: nothing to announce to.
    }
  };
  channel.addEventListener('open', () => {
    setOpen(true);
    announce();
  });
  channel.addEventListener('close', () => setOpen(false));
  channel.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (!attempt.over) dispatchFrame(event.data, events);
  });
  if (channel.readyState === 'open') {
    setOpen(true);
    announce();
  }
}

/** Emits what a frame from the gateway is; drops what it is not. */
function dispatchFrame(data: unknown, events: Emitter<CallClientEvents>): void {
  const check = parseMessage(data);
  if (check.ok) {
    events.emit('message', check.message);
    return;
  }
  const notice = parseNotice(data);
  if (notice) {
    events.emit('notice', notice);
    return;
  }
  const queue = parseQueueStatus(data);
  if (queue) events.emit('queue', queue);
}

/** The page the visitor calls from, so the agent's desk can show it; undefined outside a page. */
export function pageNavigation(
  newId: () => string,
  wallClock: () => number,
): ParleyMessage | undefined {
  const location = (globalThis as { location?: { href?: string } }).location;
  if (typeof location?.href !== 'string') return undefined;
  const title = (globalThis as { document?: { title?: string } }).document?.title;
  return {
    type: 'navigation',
    id: newId(),
    at: new Date(wallClock()).toISOString(),
    url: location.href.slice(0, 2000),
    ...(title ? { title: title.slice(0, 200) } : {}),
  };
}

function parseNotice(frame: unknown): GatewayNotice | undefined {
  if (typeof frame !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(frame);
    if (typeof value !== 'object' || value === null) return undefined;
    const notice = value as Record<string, unknown>;
    const known =
      notice['code'] === 'message_rejected' ||
      notice['code'] === 'call_ended' ||
      (notice['code'] === 'hold' && typeof notice['held'] === 'boolean') ||
      (notice['code'] === 'voicemail' && typeof notice['recording'] === 'boolean');
    return notice['type'] === 'notice' && known && typeof notice['reason'] === 'string'
      ? (value as GatewayNotice)
      : undefined;
  } catch {
    return undefined;
  }
}
