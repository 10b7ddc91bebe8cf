/**
 * The worker's shared routers (worker-routers.ts) against a stand-in worker:
 * calls asking for one numbering share a router, it closes with its last
 * call, and a retired router (its pipe pair failed) is given to no new call
 * but kept for the calls that hold it.
 */
import { describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import { PCMU } from '../engine-contract/index.js';
import { WorkerRouters } from './worker-routers.js';

interface StandIn {
  closed: boolean;
  close(): void;
  rtpCapabilities: { codecs: [] };
}

function standInWorker(): { worker: types.Worker; made: StandIn[] } {
  const made: StandIn[] = [];
  const worker = {
    createRouter: () => {
      const router: StandIn = {
        closed: false,
        close() {
          this.closed = true;
        },
        rtpCapabilities: { codecs: [] },
      };
      made.push(router);
      return Promise.resolve(router);
    },
  } as unknown as types.Worker;
  return { worker, made };
}

describe('WorkerRouters', () => {
  it('shares a router between calls and closes it with the last', async () => {
    const { worker, made } = standInWorker();
    const routers = new WorkerRouters(worker);
    const a = routers.hold([PCMU]);
    const b = routers.hold([PCMU]);
    expect(await a.router).toBe(await b.router);
    expect(made).toHaveLength(1);
    a.release();
    a.release(); // once only
    expect(made[0]!.closed).toBe(false);
    b.release();
    expect(made[0]!.closed).toBe(true);
    expect(routers.count).toBe(0);
  });

  it('gives a retired router to no new call, and closes it when its calls let go', async () => {
    const { worker, made } = standInWorker();
    const routers = new WorkerRouters(worker);
    const a = routers.hold([PCMU]);
    const broken = await a.router;
    routers.retire(broken);
    const b = routers.hold([PCMU]);
    expect(await b.router).not.toBe(broken);
    expect(made).toHaveLength(2);
    expect(routers.count).toBe(2);
    a.release();
    expect(made[0]!.closed).toBe(true);
    expect(made[1]!.closed).toBe(false);
    b.release();
    expect(routers.count).toBe(0);
  });
});
