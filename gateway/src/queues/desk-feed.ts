/**
 * Who waits in each queue, for the agents' desks: a `queue` frame after every
 * change of a queue, at most one per {@link QUEUE_FRAME_MS} per queue (a burst
 * of joins gives the first frame at once and one more with the state after
 * the burst), so 1,000 callers joining do not mean 1,000 frames per desk.
 * `send` reaches the desks of the queue's agents (the desk hub does that).
 */
import { QUEUE_VIEW_CALLERS, type DeskEvent, type QueueView } from '@parley/shared/protocol';
import type { QueueService } from './queue-service.js';
import type { WaitingEntry } from './queue-state.js';

export const QUEUE_FRAME_MS = 250;

export function queueView(
  queue: string,
  waiting: readonly WaitingEntry[],
  offered: number,
  now: number,
): QueueView {
  const longest = waiting.reduce((min, e) => Math.min(min, e.joinedAt), now);
  return {
    queue,
    waiting: waiting.length,
    offered,
    longestWaitSeconds: Math.max(0, Math.round((now - longest) / 1000)),
    callers: waiting.slice(0, QUEUE_VIEW_CALLERS).map((e, index) => ({
      callId: e.callId,
      position: index + 1,
      since: new Date(e.joinedAt).toISOString(),
      value: e.value,
      tier: e.tier ?? null,
      channel: e.caller.channel,
      from: e.caller.from,
      sessionNumber: e.caller.sessionNumber,
      customerId: e.caller.customerId,
    })),
  };
}

export class QueueDeskFeed {
  readonly #send: (queue: string, event: DeskEvent) => void;
  readonly #now: () => number;
  readonly #latest = new Map<string, QueueView>();
  /** Queues whose last frame went out less than QUEUE_FRAME_MS ago: a frame is due when it ends. */
  readonly #cooling = new Map<string, { timer: NodeJS.Timeout; dirty: boolean }>();
  readonly #off: () => void;

  constructor(
    service: QueueService,
    send: (queue: string, event: DeskEvent) => void,
    now: () => number = Date.now,
  ) {
    this.#send = send;
    this.#now = now;
    const listener = (queue: string, waiting: readonly WaitingEntry[], offered: number): void =>
      this.#changed(queue, queueView(queue, waiting, offered, this.#now()));
    service.on('waiting', listener);
    this.#off = () => service.off('waiting', listener);
  }

  /** The queue as it was last seen (for a desk that just connected). */
  view(queue: string): QueueView | undefined {
    return this.#latest.get(queue);
  }

  close(): void {
    this.#off();
    for (const { timer } of this.#cooling.values()) clearTimeout(timer);
    this.#cooling.clear();
  }

  #changed(queue: string, view: QueueView): void {
    this.#latest.set(queue, view);
    const cooling = this.#cooling.get(queue);
    if (cooling) {
      cooling.dirty = true;
      return;
    }
    this.#emit(queue);
  }

  #emit(queue: string): void {
    const view = this.#latest.get(queue);
    if (!view) return;
    this.#send(queue, { type: 'queue', queue: view });
    const entry = {
      dirty: false,
      timer: setTimeout(() => {
        this.#cooling.delete(queue);
        if (entry.dirty) this.#emit(queue);
      }, QUEUE_FRAME_MS),
    };
    entry.timer.unref();
    this.#cooling.set(queue, entry);
  }
}
