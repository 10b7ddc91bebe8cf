/** A caller's place in a queue, as the `enqueue` verb holds it (see `QueueTicket`). */
import { EventEmitter } from 'node:events';
import type {
  JoinRequest,
  QueueTicket,
  QueueTicketEvents,
  TicketEnd,
} from '../flows/queue-port.js';

export class Ticket extends EventEmitter<QueueTicketEvents> implements QueueTicket {
  readonly queue: string;
  readonly request: JoinRequest;
  readonly done: Promise<TicketEnd>;
  position = 0;
  estimatedWaitSeconds: number | null = null;
  offeredTo: string | undefined;
  /** The max wait passed while an offer was ringing: it ends as a timeout unless that agent answers. */
  timedOut = false;
  finished = false;
  #resolve!: (end: TicketEnd) => void;
  readonly #onLeave: (ticket: Ticket) => void;

  /** Epoch ms. */
  readonly joinedAt: number;

  constructor(request: JoinRequest, joinedAt: number, onLeave: (ticket: Ticket) => void) {
    super();
    this.joinedAt = joinedAt;
    this.queue = request.queue;
    this.request = request;
    this.#onLeave = onLeave;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  get callId(): string {
    return this.request.context.callId;
  }

  leave(reason: 'hangup'): void {
    void reason;
    if (!this.finished) this.#onLeave(this);
  }

  /** Settles `done` once. */
  finish(end: TicketEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.offeredTo = undefined;
    this.#resolve(end);
  }

  /** A new place or estimate: emitted only when it changed. */
  place(position: number, estimatedWaitSeconds: number | null): void {
    if (
      this.finished ||
      (position === this.position && estimatedWaitSeconds === this.estimatedWaitSeconds)
    )
      return;
    this.position = position;
    this.estimatedWaitSeconds = estimatedWaitSeconds;
    this.emit('position', position, estimatedWaitSeconds);
  }
}
