/**
 * A browser caller's data channel while voicemail records it: what it is told
 * (`tellVisitor`) and what it types (`followTyped`).
 */
import type { StoredMessage, VoicemailTyped } from '@parley/shared/protocol';
import type { Call, MessageHub } from '../calls/index.js';

/**
 * Tells a browser caller, on the call's data channel, that voicemail records
 * them (the widget says "leave a message… or type it") or stopped. A SIP
 * caller has no channel. The channel may still be opening when the beep
 * ends: tried again every 500 ms, at most 20 times, while `wanted()`.
 */
export function tellVisitor(call: Call, recording: boolean, wanted: () => boolean): void {
  const notice = JSON.stringify({
    type: 'notice',
    code: 'voicemail',
    recording,
    reason: recording ? 'leave a message after the tone' : 'the message ended',
  });
  if (!call.token) return;
  let tries = 0;
  const attempt = (): void => {
    if (call.ending || !wanted() || call.sendToVisitor(notice) || ++tries >= 20) return;
    setTimeout(attempt, 500).unref();
  };
  attempt();
}

/**
 * The `chat` lines the caller of `callId` typed, as the message hub accepted
 * them (a line it refused, rate limited or malformed, never comes): those
 * before now first (the stored history), then each new one. Returns the
 * unsubscribe.
 */
export function followTyped(
  hub: Pick<MessageHub, 'subscribe'>,
  callId: string,
  onLine: (line: VoicemailTyped) => void,
): () => void {
  return hub.subscribe(callId, {
    send: (frame) => {
      const stored = JSON.parse(frame) as Partial<StoredMessage>;
      // Notices (the call's end) have no `from`.
      if (stored.from !== 'visitor' || stored.message?.type !== 'chat') return;
      onLine({ at: stored.receivedAt ?? '', text: stored.message.text });
    },
    close: () => undefined,
  });
}
