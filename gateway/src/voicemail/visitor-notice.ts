/** What a browser caller is told on its data channel while voicemail records it. */
import type { Call } from '../calls/index.js';

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
