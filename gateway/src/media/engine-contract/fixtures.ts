/**
 * What each contract case starts from (see index.ts): the engine under test on
 * its own reserved ports, a router, browsers, phones and sockets, each closed
 * after the case in the reverse order it was made.
 */
import { afterEach } from 'vitest';
import { PortAllocator } from '@parley/testkit';
import type { MediaEngine, MediaRouter } from '../engine.js';
import { openTestPhone, openTestSocket, type TestSocket } from '../test-phone.js';
import { AGENT_EVENT, Browser, LOOPBACK, PCMU, Phone } from './peers.js';

export interface EnginePorts {
  readonly portMin: number;
  readonly portMax: number;
  readonly webrtcPortMin: number;
  readonly webrtcPortMax: number;
}

/** Makes the engine under test on 127.0.0.1 with these ports. */
export type EngineFactory = (ports: EnginePorts) => Promise<MediaEngine>;

export type ContractFixtures = ReturnType<typeof contractFixtures>;

const portAllocator = new PortAllocator();

/**
 * The fixtures of a suite whose routers carry `callId`; what they make is
 * closed after each case (an `afterEach` of the suite that calls this).
 */
export function contractFixtures(callId: string, factory: EngineFactory) {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup();
    }
  });

  async function engine(): Promise<MediaEngine> {
    const media = await portAllocator.allocate(40, { protocols: ['udp'], even: true });
    const webrtc = await portAllocator.allocate(20, { protocols: ['udp'] });
    const e = await factory({
      portMin: media.base,
      portMax: media.base + media.size - 1,
      webrtcPortMin: webrtc.base,
      webrtcPortMax: webrtc.base + webrtc.size - 1,
    });
    cleanups.push(
      () => media.release(),
      () => webrtc.release(),
      () => e.close(),
    );
    return e;
  }

  async function router(inactivityTimeoutMs = 0): Promise<MediaRouter> {
    const r = (await engine()).createRouter({ callId, inactivityTimeoutMs });
    cleanups.push(() => r.close());
    return r;
  }

  function browser(options?: { dataChannel?: boolean }): Browser {
    const b = new Browser(options);
    cleanups.push(() => b.close());
    return b;
  }

  async function phone(): Promise<Phone> {
    const p = new Phone(await openTestPhone());
    cleanups.push(() => p.close());
    return p;
  }

  async function socket(): Promise<TestSocket> {
    const s = await openTestSocket();
    cleanups.push(() => s.close());
    return s;
  }

  /** A visitor's browser answered with PCMU (and the agent's telephone-event), piped to a phone. */
  async function browserCall(options: { inactivityTimeoutMs?: number } = {}) {
    const r = await router(options.inactivityTimeoutMs);
    const web = await r.createWebRtcTransport({ name: 'visitor' });
    const plain = await r.createPlainTransport({ name: 'agent' });
    const states: string[] = [];
    web.on('state', (s) => states.push(s));
    const opened = new Promise<void>((resolve) => web.on('dataChannelOpen', () => resolve()));
    const visitor = browser();
    const agent = await phone();
    const answer = await web.answer(await visitor.offer(), PCMU, AGENT_EVENT);
    plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
    r.pipe(web, plain);
    await visitor.apply(answer);
    return { router: r, web, plain, visitor, agent, states, opened, answer };
  }

  return { cleanups, engine, router, browser, phone, socket, browserCall };
}
