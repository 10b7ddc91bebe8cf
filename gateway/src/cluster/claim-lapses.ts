/**
 * A queue notice when an agent's slot claim lapses (issue 16). A claim is
 * normally released by the gateway that holds it when its call stops ringing
 * or ends, and that gateway's agent change tells the queues. A claim whose
 * gateway died (SIGKILL, cut from Redis) or let it lapse is released by no
 * one: it only stops counting at its score, so callers waiting on the other
 * gateways would wait for some unrelated change.
 *
 * The queue state learns when such a claim lapses whenever it is refused an
 * agent because of it (`RedisQueueState`'s `slotsHeld`: a waiting caller
 * wanted that agent); this schedules, per queue, the same notice a release
 * gives (`announce`: every gateway's dispatcher looks at the queue again) for
 * the earliest such time. A claim renewed meanwhile (its call is still up)
 * refuses the next pass again, which schedules the next look: about one per
 * `leaseSeconds` per queue while a waiting caller wants an agent busy
 * elsewhere.
 */
export class ClaimLapses {
  readonly #announce: (queue: string) => void;
  readonly #now: () => number;
  readonly #due = new Map<string, { readonly at: number; readonly timer: NodeJS.Timeout }>();
  #closed = false;

  constructor(deps: { announce: (queue: string) => void; now?: () => number }) {
    this.#announce = deps.announce;
    this.#now = deps.now ?? Date.now;
  }

  /** A claim in `queue` was refused on slots of which the first lapses in `ms`. */
  heldFor(queue: string, ms: number): void {
    if (this.#closed) return;
    // Redis measured `ms` before its answer travelled here: counted from now, the time is past the lapse.
    const at = this.#now() + Math.max(0, ms) + LAPSE_MARGIN_MS;
    const due = this.#due.get(queue);
    if (due && due.at <= at) return;
    if (due) clearTimeout(due.timer);
    const timer = setTimeout(() => {
      this.#due.delete(queue);
      if (!this.#closed) this.#announce(queue);
    }, at - this.#now());
    timer.unref();
    this.#due.set(queue, { at, timer });
  }

  close(): void {
    this.#closed = true;
    for (const { timer } of this.#due.values()) clearTimeout(timer);
    this.#due.clear();
  }
}

/** Past the lapse by this much: a timer may fire a millisecond early on a coarse clock. */
const LAPSE_MARGIN_MS = 5;
