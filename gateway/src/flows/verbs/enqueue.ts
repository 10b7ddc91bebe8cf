/**
 * `enqueue`: the caller waits in a queue until a free agent takes the call
 * (TwiML's <Enqueue>). Meanwhile: music on hold, the position and estimated
 * wait said when joining and every `announceEverySeconds`, and for a browser
 * visitor the same as a `queue` status on the data channel. The queue
 * (`gateway/src/queues/`) decides who is next and rings the agent through
 * `offer`; this verb only makes the wait. Once bridged, the verb lasts until
 * the conversation is over, then the flow goes on.
 */
import type { QueueStatus } from '@parley/shared/protocol';
import type { Audio } from '../ports.js';
import type { QueueTicket, WaitingSettings } from '../queue-port.js';
import { holdTone } from '../runtime/tones.js';
import type { VerbContext } from '../runtime/verb-context.js';
import { sayAudio } from '../runtime/verb-context.js';
import { VerbError } from '../runtime/verb-error.js';
import type { EnqueueResult } from './results.js';
import type { EnqueueVerb } from './schema.js';

export async function enqueue(verb: EnqueueVerb, ctx: VerbContext): Promise<EnqueueResult> {
  const queues = ctx.queues;
  if (!queues) throw new VerbError('verb_failed', 'queueing is not set up on this gateway');
  const settings = queues.settings(verb.queue, ctx.call.context.tenant);
  if (!settings) throw new VerbError('unknown_queue', `no queue "${verb.queue}" in this tenant`);
  const started = ctx.now();
  const waited = (): number => Math.round((ctx.now() - started) / 1000);
  const tell = (status: Omit<QueueStatus, 'type' | 'queue' | 'at'>): void =>
    ctx.call.sendToVisitor?.({
      type: 'queue',
      queue: verb.queue,
      at: new Date(ctx.now()).toISOString(),
      ...status,
    });
  await ctx.call.answer();
  const joined = await queues.join({
    queue: verb.queue,
    context: ctx.call.context,
    maxWaitSeconds: verb.maxWaitSeconds ?? settings.maxWaitSeconds,
    offer: (agentId) =>
      ctx.call.dial(
        { type: 'agent', agent: agentId },
        { timeoutSeconds: settings.ringTimeoutSeconds, callerId: undefined, signal: ctx.signal },
      ),
  });
  if (!joined.ok) {
    const status = joined.reason === 'unknown' ? 'failed' : joined.reason;
    tell({ state: 'left', reason: status === 'failed' ? 'error' : status });
    return { status, queue: verb.queue, waitSeconds: 0 };
  }
  const ticket = joined.ticket;
  const joinedAt = ticket.position;
  const onHangup = (): void => ticket.leave('hangup');
  // The caller may have hung up while joining: leave at once then.
  if (ctx.signal.aborted) onHangup();
  else ctx.signal.addEventListener('abort', onHangup, { once: true });
  const waiting = (position: number, estimatedWaitSeconds: number | null): void => {
    ctx.emit({ type: 'queue.position', queue: verb.queue, position, estimatedWaitSeconds });
    tell({ state: 'waiting', position, estimatedWaitSeconds });
  };
  const offering = (agentId: string): void => {
    ctx.emit({ type: 'queue.offered', queue: verb.queue, agentId });
    tell({ state: 'connecting' });
  };
  ticket.on('position', waiting);
  ticket.on('offering', offering);
  // After a declined offer the queue places the caller again: a `position` event follows.
  // Joining may have found a free agent at once.
  if (ticket.offeredTo !== undefined) offering(ticket.offeredTo);
  else waiting(ticket.position, ticket.estimatedWaitSeconds);

  const hold = new AbortController();
  const holding = holdLoop(ctx, settings, ticket, hold.signal, () =>
    tell({
      state: 'waiting',
      position: ticket.position,
      estimatedWaitSeconds: ticket.estimatedWaitSeconds,
    }),
  );
  const end = await ticket.done;
  hold.abort();
  ticket.removeAllListeners();
  await holding;
  try {
    if (end.status === 'bridged') {
      tell({ state: 'left', reason: 'answered' });
      const answeredAt = ctx.now();
      await end.bridge.ended;
      return {
        status: 'bridged',
        queue: verb.queue,
        waitSeconds: Math.round((answeredAt - started) / 1000),
        joinedAt,
        agentId: end.agentId,
        talkSeconds: Math.round((ctx.now() - answeredAt) / 1000),
      };
    }
    if (end.status !== 'hangup')
      tell({ state: 'left', reason: end.status === 'failed' ? 'error' : end.status });
    return { status: end.status, queue: verb.queue, waitSeconds: waited(), joinedAt };
  } finally {
    ctx.signal.removeEventListener('abort', onHangup);
  }
}

/** A play of the music shorter than this did not really play (an empty file). */
const MIN_MUSIC_MS = 20;

/**
 * Music, interrupted by the announcement when it is due. Runs until
 * `signal` aborts (the caller left the queue); never rejects.
 */
async function holdLoop(
  ctx: VerbContext,
  settings: WaitingSettings,
  ticket: QueueTicket,
  signal: AbortSignal,
  onAnnounce: () => void,
): Promise<void> {
  const everyMs = settings.announceEverySeconds * 1000;
  let music: Audio = holdTone(settings.toneHz);
  if (settings.music) {
    // A music file that cannot be read is replaced by the tone: the caller must not wait in silence.
    music = await ctx.prompts.load(settings.music, signal).catch(() => music);
  }
  let nextAnnouncement = ctx.now();
  let announced = 0;
  while (!signal.aborted) {
    if (ctx.now() >= nextAnnouncement) {
      nextAnnouncement = everyMs > 0 ? ctx.now() + everyMs : Number.POSITIVE_INFINITY;
      // Not while an agent is being rung for the caller (position 0).
      if (ticket.position > 0) {
        // The widget got the place on joining; later it gets it again with each announcement.
        if (announced > 0) onAnnounce();
        announced += 1;
        const text = announcement(
          settings.announcement,
          ticket.position,
          ticket.estimatedWaitSeconds,
        );
        try {
          await ctx.call.play(await sayAudio(ctx, text, settings.voice), { signal });
        } catch {
          // The announcement is a courtesy: music goes on without it.
        }
      }
      continue;
    }
    const slice = Number.isFinite(nextAnnouncement)
      ? AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, nextAnnouncement - ctx.now()))])
      : signal;
    const started = ctx.now();
    let played = false;
    try {
      await ctx.call.play(music, { signal: slice });
      // A music file of no length (or a player that sends nothing) must not spin this loop.
      played = slice.aborted || ctx.now() - started >= MIN_MUSIC_MS;
    } catch {
      // No media for the music (the leg is going away).
    }
    if (!played) {
      // Wait for the next announcement or the end, in silence.
      await new Promise<void>((resolve) => {
        if (slice.aborted) return resolve();
        slice.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
}

/**
 * The announcement with `{position}` and `{minutes}` filled in. Without an
 * estimate, the sentences that mention `{minutes}` are left out.
 */
export function announcement(
  template: string,
  position: number,
  waitSeconds: number | null,
): string {
  const sentences = template.match(/[^.!?]+[.!?]*\s*/g) ?? [template];
  const minutes = waitSeconds === null ? null : Math.max(1, Math.ceil(waitSeconds / 60));
  return sentences
    .filter((s) => minutes !== null || !s.includes('{minutes}'))
    .join('')
    .replaceAll('{position}', String(position))
    .replaceAll('{minutes}', minutes === 1 ? '1 minute' : `${minutes} minutes`)
    .trim();
}
