/**
 * What a call costs the mediasoup worker in requests (its channel's round
 * trips, each queued behind every other call's packets), counted by method
 * from mediasoup's own debug log, for a visitor's browser bridged to a phone:
 * at setup, per counter read while held, and at teardown; with the phone's
 * telephone-event numbered as the browser's (as the benchmark's agent) and
 * otherwise (a PBX's 101: its leg on a second router, joined by pipeToRouter).
 * The totals are the budget docs/benchmarks.md gives: a change that adds a
 * request on the call path shows here.
 *
 * And what the shared routers (worker-routers.ts) must keep true: calls on one
 * worker share its routers, a call's end frees only what was its own (the
 * other call's audio goes on), and a worker with no call is left with no
 * router, transport, producer or consumer.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import type { AudioCodec, MediaEngine } from '../engine.js';
import { AGENT_EVENT } from '../engine-contract/peers.js';
import {
  BROWSER_HZ,
  LOOPBACK,
  PCMU,
  PHONE_HZ,
  Phone,
  contractFixtures,
} from '../engine-contract/index.js';
import { createMediasoupEngine, type MediasoupEngine } from './engine.js';
import { findWorkerBin, loadMediasoup } from './load.js';

const STATS_MS = 1000;
/** The browser's number for telephone-event (BROWSER_NUMBERING), as the bench's agent gets it offered. */
const BROWSER_EVENT: AudioCodec = { ...AGENT_EVENT, payloadType: 126 };

const STATS = 'CONSUMER_GET_STATS';
const requests = new Map<string, number>();
let counting = false;

/**
 * The requests counted since the last take, by method, and their total; the
 * counter reads (CONSUMER_GET_STATS: every call's, on their own timers) apart.
 */
function take(): { total: number; stats: number; methods: Record<string, number> } {
  const stats = requests.get(STATS) ?? 0;
  requests.delete(STATS);
  const methods = Object.fromEntries([...requests].sort(([a], [b]) => a.localeCompare(b)));
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  requests.clear();
  return { total, stats, methods };
}

const fixtures = contractFixtures('requests', (ports) =>
  createMediasoupEngine({
    address: '127.0.0.1',
    ...ports,
    workers: 1,
    statsIntervalMs: STATS_MS,
    logger: pino({ level: process.env['PARLEY_TEST_LOG'] ?? 'silent' }),
  }),
);

async function mediasoupEngine(): Promise<MediasoupEngine> {
  return (await fixtures.engine()) as MediaEngine as MediasoupEngine;
}

/** A visitor's browser bridged to a phone as calls/ does it, with the phone's telephone-event. */
async function call(e: MediaEngine, name: string, event: AudioCodec) {
  const visitor = fixtures.browser();
  const agent = await fixtures.phone();
  const offer = await visitor.offer();
  requests.clear();
  const router = e.createRouter({ callId: name, inactivityTimeoutMs: 30_000 });
  const web = await router.createWebRtcTransport({ name: 'visitor' });
  const plain = await router.createPlainTransport({ name: 'agent' });
  const connected = new Promise<void>((resolve) =>
    web.on('state', (s) => s === 'connected' && resolve()),
  );
  const opened = new Promise<void>((resolve) => web.on('dataChannelOpen', () => resolve()));
  const answer = await web.answer(offer, PCMU, event);
  plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
  router.pipe(web, plain);
  await visitor.apply(answer);
  await agent.talk(plain.rtpPort);
  await Promise.all([connected, opened]);
  await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
  await expect
    .poll(() => Phone.hears(agent.rtp, BROWSER_HZ), { timeout: 10_000 })
    .toBeGreaterThan(0.8);
  return { router, web, plain, visitor, agent };
}

/** The routers open on `worker` (seen made from now on). */
function routersOf(worker: types.Worker): Set<types.Router> {
  const routers = new Set<types.Router>();
  worker.observer.on('newrouter', (router) => {
    routers.add(router);
    router.observer.once('close', () => routers.delete(router));
  });
  return routers;
}

/**
 * What the worker holds: routers and, over them, transports, producers,
 * consumers. Its dumps are not counted (by method, not by pausing the count:
 * what mediasoup sends meanwhile on its own, say a pipe producer's close when
 * its consumer's producer closed, is the call's).
 */
async function held(worker: types.Worker, routers: Set<types.Router>) {
  const { routerIds } = await worker.dump();
  const dumps = await Promise.all([...routers].map((r) => r.dump()));
  return {
    routers: routerIds.length,
    transports: dumps.reduce((n, d) => n + d.transportIds.length, 0),
    producers: dumps.reduce((n, d) => n + d.mapProducerIdConsumerIds.length, 0),
    consumers: dumps.reduce((n, d) => n + d.mapConsumerIdProducerId.length, 0),
  };
}

beforeAll(async () => {
  const mediasoup = await loadMediasoup(findWorkerBin()!);
  mediasoup.setLogEventListeners({
    ondebug: (namespace, log) => {
      if (!counting || namespace !== 'mediasoup:Channel') return;
      const method = /^request\(\) \[method:(\w+)\]/.exec(log)?.[1];
      if (method && !method.endsWith('_DUMP'))
        requests.set(method, (requests.get(method) ?? 0) + 1);
    },
  });
  counting = true;
});
afterAll(async () => {
  counting = false;
  (await loadMediasoup(findWorkerBin()!)).setLogEventListeners(undefined);
});

describe('mediasoup engine: worker requests per call', () => {
  // The budgets: requests at setup and at teardown (docs/benchmarks.md).
  for (const [agentNumbers, event, budget] of [
    ['the browser’s', BROWSER_EVENT, { setup: 13, teardown: 3 }],
    ['its own', AGENT_EVENT, { setup: 17, teardown: 5 }],
  ] as const) {
    it(`counts a call’s requests beside another, the phone numbering telephone-event as ${agentNumbers}`, async () => {
      const e = await mediasoupEngine();
      const worker = e.pool.workers[0]!.worker;
      const routers = routersOf(worker);
      const first = await call(e, 'first', event);
      const alone = await held(worker, routers);

      const counted = await call(e, 'counted', event);
      const setup = take();
      // Held: the counters' reads (meter.ts), one per bridge direction each interval.
      await new Promise((resolve) => setTimeout(resolve, STATS_MS * 4 + STATS_MS / 2));
      const hold = take();
      counted.router.close();
      // Its own closed, the other call's kept.
      await expect.poll(() => held(worker, routers)).toEqual(alone);
      const teardown = take();
      console.log(JSON.stringify({ agentNumbers, setup, hold, teardown }));
      const before = first.agent.rtp.received.length;
      await expect
        .poll(() => first.agent.rtp.received.length, { timeout: 5000 })
        .toBeGreaterThan(before + 10);
      expect(hold.total).toBe(0);
      // Two calls, two reads each (one per bridge direction) every interval: 4.5 intervals.
      expect(hold.stats).toBeLessThanOrEqual(2 * 2 * 5);
      expect(setup.total).toBeLessThanOrEqual(budget.setup);
      expect(teardown.total).toBeLessThanOrEqual(budget.teardown);

      first.router.close();
      await expect
        .poll(() => held(worker, routers))
        .toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0 });
    });
  }
});

describe('mediasoup engine: a call ended while its browser leg is being made', () => {
  it('leaves nothing of its own on the router another call holds (its data channel never set up)', async () => {
    const e = await mediasoupEngine();
    const worker = e.pool.workers[0]!.worker;
    const routers = routersOf(worker);
    const first = await call(e, 'first', BROWSER_EVENT);
    const alone = await held(worker, routers);
    const [shared] = [...routers];
    expect(shared).toBeDefined();

    // The visitor's transport is made at once (while the agent would ring); the
    // call ends once the worker has it and its data channel is being set up.
    const gone = e.createRouter({ callId: 'gone', inactivityTimeoutMs: 30_000 });
    const ended = new Promise<void>((resolve) => {
      const end = () => {
        gone.close();
        resolve();
      };
      shared!.observer.on('newtransport', (transport) => {
        if (transport.type !== 'webrtc') return;
        transport.observer.once('newdataproducer', end);
        transport.observer.once('newdataconsumer', end);
      });
    });
    await gone.createWebRtcTransport({ name: 'visitor' });
    await ended;
    await expect.poll(() => held(worker, routers)).toEqual(alone);

    first.router.close();
    await expect
      .poll(() => held(worker, routers))
      .toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0 });
  });
});
