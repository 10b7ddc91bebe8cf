/**
 * The mediasoup routers of one worker, shared by its calls. A mediasoup router
 * is only a container (the codecs and their payload types its consumers send
 * with); what is a call's own (transports, producers, consumers) the call makes
 * on it and closes itself (call-routers.ts). So a worker keeps one router per
 * numbering of the codecs its calls' legs use (usually one: the browsers'; one
 * more per PBX numbering its telephone-event otherwise), instead of a router
 * per call: a call's setup costs no router request while another call is up
 * on the worker, and two routers'
 * `pipeToRouter` reuses their pipe transports (one pair per two routers, made
 * by mediasoup on first use) instead of making a pair per call.
 *
 * Each router counts the calls that hold it and closes when the last lets go
 * (a worker with no call has no router: nothing the calls made can outlive
 * them unseen: the first call on an idle worker makes one). A router that
 * failed to be made is forgotten, so the next call tries again; one whose
 * pipes failed is retired (given to no new call).
 */
import type { types } from 'mediasoup';
import type { AudioCodec } from '../engine.js';
import { numberingOf, numbersAgree, routerCodecs, type Numbering } from './codecs.js';

/** A worker's router as a call holds it: release() once, when the call is done with it. */
export interface HeldRouter {
  readonly router: Promise<types.Router>;
  release(): void;
}

interface Entry {
  readonly key: string;
  readonly router: Promise<types.Router>;
  /** Once made: what {@link numbersAgree} reads. */
  made: types.Router | undefined;
  users: number;
  /** Given to no new call (see {@link WorkerRouters.retire}); its calls keep it until they let go. */
  retired: boolean;
}

/** A numbering as a key: its codecs and numbers, sorted. */
function keyOf(numbering: Numbering): string {
  return [...numbering]
    .map(([codec, payloadType]) => `${codec}=${payloadType}`)
    .sort()
    .join(',');
}

export class WorkerRouters {
  readonly #worker: types.Worker;
  readonly #entries: Entry[] = [];

  constructor(worker: types.Worker) {
    this.#worker = worker;
  }

  /** Routers open on the worker (for tests and logs). */
  get count(): number {
    return this.#entries.length;
  }

  /**
   * A router that numbers `codecs` as they are: one the worker has (made for
   * the same numbering, or made for another and numbering these the same),
   * else a new one. Synchronous up to the request, so two calls asking for a
   * new numbering at once share one router.
   */
  hold(codecs: readonly AudioCodec[]): HeldRouter {
    const numbering = numberingOf(codecs);
    const key = keyOf(numbering);
    const entry =
      this.#entries.find((e) => !e.retired && e.key === key) ??
      this.#entries.find(
        (e) => !e.retired && e.made !== undefined && numbersAgree(e.made, numbering),
      ) ??
      this.#make(key, numbering);
    entry.users += 1;
    let released = false;
    return {
      router: entry.router,
      release: () => {
        if (released) return;
        released = true;
        this.#release(entry);
      },
    };
  }

  /**
   * No new call gets `router`; the calls holding it keep it until they let go.
   * For a router whose `pipeToRouter` to another failed: mediasoup keeps that
   * failure for the pair of routers (every later pipe between them fails), so
   * the next calls get fresh routers rather than a broken pair.
   */
  retire(router: types.Router): void {
    for (const entry of this.#entries) if (entry.made === router) entry.retired = true;
  }

  #make(key: string, numbering: Numbering): Entry {
    const router = this.#worker.createRouter({ mediaCodecs: routerCodecs(numbering) });
    const entry: Entry = { key, router, made: undefined, users: 0, retired: false };
    this.#entries.push(entry);
    router.then(
      (made) => {
        entry.made = made;
        // Every call let go meanwhile (or the worker closed it: it died).
        if (entry.users === 0 || made.closed) this.#forget(entry);
      },
      () => this.#forget(entry),
    );
    return entry;
  }

  #release(entry: Entry): void {
    entry.users -= 1;
    if (entry.users > 0) return;
    // Still being made: closed once made (above), unless a call took it meanwhile.
    if (entry.made) this.#forget(entry);
  }

  #forget(entry: Entry): void {
    if (entry.users > 0 && entry.made && !entry.made.closed) return;
    const index = this.#entries.indexOf(entry);
    if (index >= 0) this.#entries.splice(index, 1);
    entry.made?.close();
  }
}
