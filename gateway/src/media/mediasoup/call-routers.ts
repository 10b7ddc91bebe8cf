/**
 * A call's mediasoup routers on its worker: one router per numbering of its
 * legs' codecs (legs whose payload types agree share one; made one at a
 * time so two such legs never make two), the worker picked from the pool on
 * the first, and a DirectTransport per router for what Node sends and hears
 * (media endpoints, the data channel). `close()` gives the worker back.
 */
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type { AudioCodec } from '../engine.js';
import { numberingOf, numbersAgree, routerCodecs } from './codecs.js';
import { MAX_MESSAGE_SIZE } from './webrtc-sdp.js';
import type { PooledWorker, WorkerPool } from './worker-pool.js';

export class CallRouters {
  readonly #pool: WorkerPool;
  readonly #onWorkerDied: (error: Error) => void;
  #worker: PooledWorker | undefined;
  readonly #routers: Promise<types.Router>[] = [];
  readonly #directs = new Map<types.Router, Promise<types.DirectTransport>>();
  #routing: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(pool: WorkerPool, onWorkerDied: (error: Error) => void) {
    this.#pool = pool;
    this.#onWorkerDied = onWorkerDied;
  }

  /** The call's worker, once its first router was made. */
  get worker(): PooledWorker | undefined {
    return this.#worker;
  }

  /** A router of this call that numbers `codecs` as they are; made (on the call's worker) if none does. */
  routerFor(codecs: readonly AudioCodec[]): Promise<types.Router> {
    // One at a time: two legs with the same numbers must not each make a router.
    const found = this.#routing.then(() => this.#findOrMake(codecs));
    this.#routing = found.catch(() => undefined);
    return found;
  }

  /** The router's DirectTransport (made once). */
  direct(router: types.Router): Promise<types.DirectTransport> {
    let direct = this.#directs.get(router);
    if (!direct) {
      direct = router.createDirectTransport({ maxMessageSize: MAX_MESSAGE_SIZE });
      this.#directs.set(router, direct);
    }
    return direct;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#worker) {
      this.#worker.routers -= 1;
      this.#worker.off('died', this.#onWorkerDied);
    }
    for (const router of this.#routers) {
      void router.then(
        (r) => r.close(),
        () => undefined,
      );
    }
  }

  async #findOrMake(codecs: readonly AudioCodec[]): Promise<types.Router> {
    const numbering = numberingOf(codecs);
    for (const candidate of this.#routers) {
      const router = await candidate;
      if (numbersAgree(router, numbering)) return router;
    }
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
    if (!this.#worker) {
      const worker = this.#pool.pick();
      this.#worker = worker;
      worker.routers += 1;
      worker.on('died', this.#onWorkerDied);
    }
    const made = this.#worker.worker.createRouter({ mediaCodecs: routerCodecs(numbering) });
    this.#routers.push(made);
    const router = await made;
    if (this.#closed) router.close();
    return router;
  }
}
