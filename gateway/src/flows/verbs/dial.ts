/**
 * `dial`: rings a target and, once it answers, bridges it with the caller
 * until one of them hangs up (or `timeLimit`); then the flow goes on, like
 * TwiML's <Dial>. The caller's leg is answered only when the target answers
 * (early media passes before that).
 */
import type { VerbContext } from '../runtime/verb-context.js';
import type { DialResult } from './results.js';
import type { DialVerb } from './schema.js';

export async function dial(verb: DialVerb, ctx: VerbContext): Promise<DialResult> {
  const attempt = await ctx.call.dial(verb.target, {
    timeoutSeconds: verb.timeout,
    callerId: verb.callerId,
    signal: ctx.signal,
  });
  if (attempt.status !== 'answered') {
    return {
      status: ctx.signal.aborted ? 'canceled' : attempt.status,
      ...(attempt.sipStatus === undefined ? {} : { sipStatus: attempt.sipStatus }),
      ...(attempt.reason === undefined ? {} : { reason: attempt.reason }),
    };
  }
  const answeredAt = ctx.now();
  const limit = setTimeout(() => attempt.bridge.hangup('time_limit'), verb.timeLimit * 1000);
  try {
    await attempt.bridge.ended;
  } finally {
    clearTimeout(limit);
  }
  return {
    status: 'answered',
    answeredBy: attempt.bridge.answeredBy,
    talkSeconds: Math.round((ctx.now() - answeredAt) / 1000),
  };
}
