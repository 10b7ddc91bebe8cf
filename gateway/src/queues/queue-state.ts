/**
 * Who waits in each queue and which agents have an offer in progress: the
 * state queueing decides from, behind an interface: in this process's memory
 * for one gateway (here), in Redis for a cluster of gateways
 * (`cluster/redis-queue-state.ts`, wired when `shared.redis` is set). The
 * methods are asynchronous for that reason; the decisions that must not race
 * (an agent offered two callers, a caller offered to two agents) are single
 * operations here (`claim`), which the Redis implementation makes atomic with
 * a script. `queue-state-contract.ts` (in `testing/`) holds the cases both
 * pass.
 *
 * Order: the highest value first (S1's customer value), then the longest
 * wait, then the order of joining.
 */

/** What the desk shows about a waiting caller. */
export interface WaitingCaller {
  readonly channel: 'browser' | 'sip' | 'phone';
  readonly from: string | null;
  readonly sessionNumber: string | null;
  readonly customerId: string | null;
}

export interface WaitingEntry {
  readonly callId: string;
  readonly queue: string;
  readonly tenant: string;
  readonly value: number;
  /** The value band, for the queue's bands (which agent tiers serve it). */
  readonly tier: string | undefined;
  /** Epoch ms. */
  readonly joinedAt: number;
  readonly caller: WaitingCaller;
  /**
   * Agents that let this caller ring out, each with the time (epoch ms) until
   * which it is not offered this caller again (set by `decline`, read by every
   * gateway's dispatcher).
   */
  readonly declinedBy?: Readonly<Record<string, number>> | undefined;
}

export interface QueueState {
  /**
   * Adds a caller; false (and nothing added) when `max` callers are in the
   * queue already. A caller already in the queue is left as it is (true).
   */
  add(entry: WaitingEntry, max: number): Promise<boolean>;
  /** Takes a caller out (waiting or offered); true when it was there. Releases its agent. */
  remove(queue: string, callId: string): Promise<boolean>;
  /** Callers waiting and not being offered to an agent, best first. */
  waiting(queue: string): Promise<readonly WaitingEntry[]>;
  /** Callers in the queue (waiting and being offered). */
  size(queue: string): Promise<number>;
  /**
   * Offers `callId` to `agentId`, atomically: only when the caller is waiting
   * and the agent has no offer in progress (in any queue). True when done.
   */
  claim(queue: string, callId: string, agentId: string): Promise<boolean>;
  /**
   * The agent did not take it: the caller is back in its place, the agent
   * free, and that agent is not offered this caller before `until` (epoch ms,
   * the entry's `declinedBy`).
   */
  decline(queue: string, callId: string, until: number): Promise<void>;
  /** Agents with an offer in progress, any queue: agentId → callId. */
  offers(): Promise<ReadonlyMap<string, string>>;
}

export function compareEntries(a: WaitingEntry, b: WaitingEntry): number {
  return (
    b.value - a.value ||
    a.joinedAt - b.joinedAt ||
    (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0)
  );
}

interface MemoryQueue {
  /** Waiting, sorted by compareEntries. */
  readonly waiting: WaitingEntry[];
  /** callId → entry, offered to an agent now. */
  readonly offered: Map<string, { entry: WaitingEntry; agentId: string }>;
}

/** The state in this process's memory: one gateway. */
export class MemoryQueueState implements QueueState {
  readonly #queues = new Map<string, MemoryQueue>();
  /** agentId → callId */
  readonly #offers = new Map<string, string>();

  add(entry: WaitingEntry, max: number): Promise<boolean> {
    const q = this.#queue(entry.queue);
    if (q.offered.has(entry.callId) || q.waiting.some((e) => e.callId === entry.callId))
      return Promise.resolve(true);
    if (q.waiting.length + q.offered.size >= max) return Promise.resolve(false);
    insertSorted(q.waiting, entry);
    return Promise.resolve(true);
  }

  remove(queue: string, callId: string): Promise<boolean> {
    const q = this.#queues.get(queue);
    if (!q) return Promise.resolve(false);
    const offered = q.offered.get(callId);
    if (offered) {
      q.offered.delete(callId);
      if (this.#offers.get(offered.agentId) === callId) this.#offers.delete(offered.agentId);
      return Promise.resolve(true);
    }
    const at = q.waiting.findIndex((e) => e.callId === callId);
    if (at < 0) return Promise.resolve(false);
    q.waiting.splice(at, 1);
    return Promise.resolve(true);
  }

  waiting(queue: string): Promise<readonly WaitingEntry[]> {
    return Promise.resolve([...(this.#queues.get(queue)?.waiting ?? [])]);
  }

  size(queue: string): Promise<number> {
    const q = this.#queues.get(queue);
    return Promise.resolve(q ? q.waiting.length + q.offered.size : 0);
  }

  claim(queue: string, callId: string, agentId: string): Promise<boolean> {
    const q = this.#queues.get(queue);
    if (!q || this.#offers.has(agentId)) return Promise.resolve(false);
    const at = q.waiting.findIndex((e) => e.callId === callId);
    if (at < 0) return Promise.resolve(false);
    const [entry] = q.waiting.splice(at, 1);
    q.offered.set(callId, { entry: entry!, agentId });
    this.#offers.set(agentId, callId);
    return Promise.resolve(true);
  }

  decline(queue: string, callId: string, until: number): Promise<void> {
    const q = this.#queues.get(queue);
    const offered = q?.offered.get(callId);
    if (!q || !offered) return Promise.resolve();
    q.offered.delete(callId);
    if (this.#offers.get(offered.agentId) === callId) this.#offers.delete(offered.agentId);
    const declinedBy = { ...offered.entry.declinedBy, [offered.agentId]: until };
    insertSorted(q.waiting, { ...offered.entry, declinedBy });
    return Promise.resolve();
  }

  offers(): Promise<ReadonlyMap<string, string>> {
    return Promise.resolve(new Map(this.#offers));
  }

  #queue(name: string): MemoryQueue {
    let q = this.#queues.get(name);
    if (!q) {
      q = { waiting: [], offered: new Map() };
      this.#queues.set(name, q);
    }
    return q;
  }
}

/** Binary insertion: O(log n) to find the place (the splice is a memmove). */
function insertSorted(list: WaitingEntry[], entry: WaitingEntry): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(list[mid]!, entry) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, entry);
}
