/**
 * A call's share of its worker: the worker (picked from the pool on first
 * need), the worker's shared routers the call uses (worker-routers.ts: one per
 * numbering of its legs' codecs, since a consumer sends with its router's
 * payload types), and on each a DirectTransport of the call's own, for what
 * Node sends and hears (media endpoints, the data channel, DTMF).
 *
 * The routers are not the call's, so their close does not clean up after it:
 * the call closes what it made. Its legs close their own transports (and with
 * them their producers, consumers and data channels; mediasoup closes a
 * consumer whose producer closes, and the pipe consumer and producer a
 * pipeToRouter made for it); `close()` here closes the call's DirectTransports
 * (with what media endpoints and DTMF made on them), lets go of the routers
 * and gives the worker back.
 */
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type { AudioCodec } from '../engine.js';
import { numberingOf, numbersAgree } from './codecs.js';
import { MAX_MESSAGE_SIZE } from './webrtc-sdp.js';
import type { HeldRouter } from './worker-routers.js';
import type { PooledWorker, WorkerPool } from './worker-pool.js';

export class CallRouters {
  readonly #pool: WorkerPool;
  readonly #onWorkerDied: (error: Error) => void;
  #worker: PooledWorker | undefined;
  readonly #held: HeldRouter[] = [];
  readonly #directs = new Map<types.Router, Promise<types.DirectTransport>>();
  #routing: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(pool: WorkerPool, onWorkerDied: (error: Error) => void) {
    this.#pool = pool;
    this.#onWorkerDied = onWorkerDied;
  }

  /** The call's worker, once its first router was taken. */
  get worker(): PooledWorker | undefined {
    return this.#worker;
  }

  /** A router (of the call's worker) that numbers `codecs` as they are. */
  routerFor(codecs: readonly AudioCodec[]): Promise<types.Router> {
    // One at a time: a leg whose numbers agree with a router the call holds takes that one.
    const found = this.#routing.then(() => this.#findOrHold(codecs));
    this.#routing = found.catch(() => undefined);
    return found;
  }

  /** The call's DirectTransport on `router` (made once). */
  direct(router: types.Router): Promise<types.DirectTransport> {
    if (this.#closed) return Promise.reject(new ParleyError('internal', 'media router is closed'));
    let direct = this.#directs.get(router);
    if (!direct) {
      direct = router.createDirectTransport({ maxMessageSize: MAX_MESSAGE_SIZE }).then((made) => {
        if (this.#closed) made.close();
        return made;
      });
      this.#directs.set(router, direct);
    }
    return direct;
  }

  /** `router` is given to no new call (a pipe from or to it failed: worker-routers.ts). */
  retire(router: types.Router): void {
    this.#worker?.routers.retire(router);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const direct of this.#directs.values()) {
      void direct.then(
        (d) => d.close(),
        () => undefined,
      );
    }
    for (const held of this.#held) held.release();
    if (this.#worker) {
      this.#worker.calls -= 1;
      this.#worker.off('died', this.#onWorkerDied);
    }
  }

  async #findOrHold(codecs: readonly AudioCodec[]): Promise<types.Router> {
    const numbering = numberingOf(codecs);
    for (const held of this.#held) {
      const router = await held.router;
      if (numbersAgree(router, numbering)) return router;
    }
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
    if (!this.#worker) {
      const worker = this.#pool.pick();
      this.#worker = worker;
      worker.calls += 1;
      worker.on('died', this.#onWorkerDied);
    }
    const held = this.#worker.routers.hold(codecs);
    this.#held.push(held);
    return held.router;
  }
}
