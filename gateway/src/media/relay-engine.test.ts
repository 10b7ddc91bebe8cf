import { ParleyError } from '@parley/shared/errors';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRelayEngine, type RelayEngine, type RelayEngineOptions } from './relay-engine.js';
import type { RelayRouter } from './relay-router.js';
import type { RelayTransport } from './relay-transport.js';
import {
  openTestPhone,
  openTestSocket,
  randomPortBase,
  rtcpPacket,
  rtpPacket,
  sleep,
  type TestPhone,
  type TestSocket,
} from './test-phone.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function engine(options: Partial<RelayEngineOptions> = {}, pairs = 8): RelayEngine {
  const base = randomPortBase(pairs * 2);
  const e = createRelayEngine({
    address: '127.0.0.1',
    portMin: base,
    portMax: base + pairs * 2 - 1,
    logger,
    ...options,
  });
  cleanups.push(() => e.close());
  return e;
}

async function phone(): Promise<TestPhone> {
  const p = await openTestPhone();
  cleanups.push(() => p.close());
  return p;
}

async function socket(): Promise<TestSocket> {
  const s = await openTestSocket();
  cleanups.push(() => s.close());
  return s;
}

interface Call {
  engine: RelayEngine;
  router: RelayRouter;
  visitor: RelayTransport;
  agent: RelayTransport;
  alice: TestPhone;
  bob: TestPhone;
}

/** Two phones, each with a transport whose SDP remote is the phone; piped unless told otherwise. */
async function call(
  options: {
    engine?: Partial<RelayEngineOptions>;
    inactivityTimeoutMs?: number;
    pipe?: boolean;
  } = {},
): Promise<Call> {
  const e = engine(options.engine);
  const router = e.createRouter({
    callId: 'call-1',
    inactivityTimeoutMs: options.inactivityTimeoutMs ?? 0,
  });
  const visitor = await router.createPlainTransport({ name: 'visitor' });
  const agent = await router.createPlainTransport({ name: 'agent' });
  const alice = await phone();
  const bob = await phone();
  visitor.setRemote({ address: '127.0.0.1', rtpPort: alice.rtp.port, rtcpPort: alice.rtcp.port });
  agent.setRemote({ address: '127.0.0.1', rtpPort: bob.rtp.port, rtcpPort: bob.rtcp.port });
  if (options.pipe ?? true) router.pipe(visitor, agent);
  return { engine: e, router, visitor, agent, alice, bob };
}

describe('relay engine: forwarding', () => {
  it('relays RTP and RTCP both ways, byte for byte, from the transport ports', async () => {
    const { visitor, agent, alice, bob, engine: e } = await call();
    expect(e.kind).toBe('relay');
    expect(visitor.localAddress).toBe('127.0.0.1');
    expect(visitor.rtcpPort).toBe(visitor.rtpPort + 1);

    for (let seq = 1; seq <= 5; seq++) await alice.rtp.send(rtpPacket(seq, 0x11), visitor.rtpPort);
    await bob.rtp.waitFor(5);
    expect(bob.rtp.received.map((r) => r.data)).toEqual(
      [1, 2, 3, 4, 5].map((seq) => rtpPacket(seq, 0x11)),
    );
    // Bob sees the gateway, never Alice.
    expect(bob.rtp.received.every((r) => r.from.port === agent.rtpPort)).toBe(true);

    for (let seq = 1; seq <= 3; seq++) await bob.rtp.send(rtpPacket(seq, 0x22), agent.rtpPort);
    await alice.rtp.waitFor(3);
    expect(alice.rtp.received.map((r) => r.data)).toEqual([1, 2, 3].map((s) => rtpPacket(s, 0x22)));
    expect(alice.rtp.received.every((r) => r.from.port === visitor.rtpPort)).toBe(true);

    await alice.rtcp.send(rtcpPacket(7), visitor.rtcpPort);
    expect((await bob.rtcp.waitFor(1)).data).toEqual(rtcpPacket(7));
    expect((await bob.rtcp.waitFor(1)).from.port).toBe(agent.rtcpPort);
    await bob.rtcp.send(rtcpPacket(8), agent.rtcpPort);
    expect((await alice.rtcp.waitFor(1)).data).toEqual(rtcpPacket(8));

    const v = visitor.stats();
    expect(v).toMatchObject({
      packetsIn: 6,
      rtpPacketsIn: 5,
      rtcpPacketsIn: 1,
      bytesIn: 5 * 172 + 12,
      packetsOut: 4,
      bytesOut: 3 * 172 + 12,
      latchedTo: { address: '127.0.0.1', port: alice.rtp.port },
      rtcpLatchedTo: { address: '127.0.0.1', port: alice.rtcp.port },
      junkPackets: 0,
    });
    expect(typeof v.lastRtpAt).toBe('number');
    expect(agent.stats()).toMatchObject({ packetsIn: 4, packetsOut: 6 });
  });

  it('carries multiplexed RTCP (rtcp-mux) on the RTP ports without taking it for media', async () => {
    const { visitor, agent, alice, bob } = await call();
    await alice.rtp.send(rtcpPacket(9), visitor.rtpPort);
    expect((await bob.rtp.waitFor(1)).data).toEqual(rtcpPacket(9));
    expect(visitor.stats()).toMatchObject({
      rtcpPacketsIn: 1,
      rtpPacketsIn: 0,
      lastRtpAt: undefined,
    });
    expect(agent.stats().packetsOut).toBe(1);
  });

  it('drops junk (not version 2, shorter than a header) and counts it', async () => {
    const { visitor, alice, bob } = await call();
    await alice.rtp.send(Buffer.from([0x80, 0, 1, 2, 3]), visitor.rtpPort); // too short
    const v0 = rtpPacket(1);
    v0[0] = 0x00; // version 0 (e.g. STUN)
    await alice.rtp.send(v0, visitor.rtpPort);
    await alice.rtcp.send(Buffer.from([0x80, 201, 0]), visitor.rtcpPort); // too short for RTCP
    await alice.rtp.send(rtpPacket(2), visitor.rtpPort);
    await alice.rtcp.send(rtcpPacket(3), visitor.rtcpPort);
    // Each socket is read and relayed in order: had the junk been relayed, it would be here first.
    await bob.rtp.waitFor(1);
    await bob.rtcp.waitFor(1);
    expect(bob.rtp.received.map((r) => r.data)).toEqual([rtpPacket(2)]);
    expect(bob.rtcp.received.map((r) => r.data)).toEqual([rtcpPacket(3)]);
    expect(visitor.stats()).toMatchObject({ junkPackets: 3, packetsIn: 2 });
  });

  it('drops what arrives before pipe()', async () => {
    const { router, visitor, agent, alice, bob } = await call({ pipe: false });
    await alice.rtp.send(rtpPacket(1), visitor.rtpPort);
    await alice.rtcp.send(rtcpPacket(1), visitor.rtcpPort);
    // Both read (and not relayed) once counted.
    await expect
      .poll(() => visitor.stats().unroutedPackets, { timeout: 2000, interval: 10 })
      .toBe(2);
    expect(visitor.stats()).toMatchObject({ packetsIn: 2 });
    router.pipe(visitor, agent);
    await alice.rtp.send(rtpPacket(2), visitor.rtpPort);
    await alice.rtcp.send(rtcpPacket(2), visitor.rtcpPort);
    // Relayed in order: what came before pipe() would have arrived first.
    await bob.rtp.waitFor(1);
    await bob.rtcp.waitFor(1);
    expect(bob.rtp.received.map((r) => r.data)).toEqual([rtpPacket(2)]);
    expect(bob.rtcp.received.map((r) => r.data)).toEqual([rtcpPacket(2)]);
  });

  it('refuses to pipe transports that are not open on this router', async () => {
    const { engine: e, router, visitor, agent } = await call({ pipe: false });
    const other = e.createRouter({ callId: 'call-2', inactivityTimeoutMs: 0 });
    const stranger = await other.createPlainTransport({ name: 'stranger' });
    expect(() => router.pipe(visitor, stranger)).toThrow(ParleyError);
    expect(() => router.pipe(visitor, visitor)).toThrow(ParleyError);
    agent.close();
    expect(() => router.pipe(visitor, agent)).toThrow(ParleyError);
  });

  it('refuses a remote that is not an IP literal of the socket family', async () => {
    const { visitor } = await call();
    for (const address of ['phone.example.com', '::1', '']) {
      expect(() => visitor.setRemote({ address, rtpPort: 4000 })).toThrow(
        expect.objectContaining({ code: 'bad_request' }) as Error,
      );
    }
    expect(() => visitor.setRemote({ address: '127.0.0.1', rtpPort: 70000 })).toThrow(ParleyError);
  });
});

describe('relay engine: symmetric RTP latching', () => {
  it('sends to the SDP address until the peer speaks, then to where its packets come from (NAT)', async () => {
    const { visitor, agent, bob } = await call();
    // Alice's SDP named one port; behind NAT her packets come from another.
    const declared = await phone();
    const natted = await phone();
    visitor.setRemote({
      address: '127.0.0.1',
      rtpPort: declared.rtp.port,
      rtcpPort: declared.rtcp.port,
    });

    await bob.rtp.send(rtpPacket(1), agent.rtpPort);
    expect((await declared.rtp.waitFor(1)).data).toEqual(rtpPacket(1));
    expect(visitor.stats().latchedTo).toBeUndefined();

    await natted.rtp.send(rtpPacket(100), visitor.rtpPort);
    await natted.rtcp.send(rtcpPacket(100), visitor.rtcpPort);
    expect((await bob.rtp.waitFor(1)).data).toEqual(rtpPacket(100));
    await bob.rtcp.waitFor(1);
    expect(visitor.stats().latchedTo).toEqual({ address: '127.0.0.1', port: natted.rtp.port });

    await bob.rtp.send(rtpPacket(2), agent.rtpPort);
    await bob.rtcp.send(rtcpPacket(2), agent.rtcpPort);
    expect((await natted.rtp.waitFor(1)).data).toEqual(rtpPacket(2));
    expect((await natted.rtcp.waitFor(1)).data).toEqual(rtcpPacket(2));
    expect(declared.rtp.received).toHaveLength(1);
  });

  it('ignores a third party while the latched source is active, and lets it in after 1 s of silence', async () => {
    let clock = 1_000_000;
    const { visitor, agent, alice, bob } = await call({ engine: { now: () => clock } });
    const mallory = await socket();

    await alice.rtp.send(rtpPacket(1, 0xaa), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    clock += 500; // Alice spoke 500 ms ago: still active
    for (let seq = 1; seq <= 5; seq++) await mallory.send(rtpPacket(seq, 0xee), visitor.rtpPort);
    await alice.rtp.send(rtpPacket(2, 0xaa), visitor.rtpPort);
    await bob.rtp.waitFor(2);
    await bob.rtp.send(rtpPacket(1, 0xbb), agent.rtpPort);
    // Mallory's packets were read before Alice's second (one socket, in order), and Bob's
    // packet goes to one address only: nothing more can come to Bob or Mallory.
    await alice.rtp.waitFor(1);
    expect(bob.rtp.received.map((r) => r.data[12])).toEqual([0xaa, 0xaa]);
    expect(mallory.received).toHaveLength(0);
    expect(visitor.stats()).toMatchObject({
      rejectedPackets: 5,
      latchedTo: { port: alice.rtp.port },
    });

    // Alice falls silent for a second (her phone moved network): the new source takes over.
    clock += 1000;
    await mallory.send(rtpPacket(6, 0xee), visitor.rtpPort);
    await bob.rtp.waitFor(3);
    expect(visitor.stats().latchedTo).toEqual({ address: '127.0.0.1', port: mallory.port });
    await bob.rtp.send(rtpPacket(2, 0xbb), agent.rtpPort);
    expect((await mallory.waitFor(1)).data).toEqual(rtpPacket(2, 0xbb));
  });

  it('moves the latch at once to a source at exactly the SDP-declared address and port', async () => {
    const clock = 1_000_000;
    const { visitor, alice, bob } = await call({ engine: { now: () => clock } });
    const natted = await socket();
    await natted.send(rtpPacket(1, 0x01), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    expect(visitor.stats().latchedTo?.port).toBe(natted.port);
    // Alice's own (declared) port, no silence needed.
    await alice.rtp.send(rtpPacket(2, 0x02), visitor.rtpPort);
    await bob.rtp.waitFor(2);
    expect(visitor.stats().latchedTo?.port).toBe(alice.rtp.port);
  });

  it('forgets the latch when a re-INVITE moves the media elsewhere', async () => {
    const { visitor, agent, alice, bob } = await call();
    await alice.rtp.send(rtpPacket(1), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    const moved = await phone();
    visitor.setRemote({ address: '127.0.0.1', rtpPort: moved.rtp.port, rtcpPort: moved.rtcp.port });
    expect(visitor.stats().latchedTo).toBeUndefined();
    await bob.rtp.send(rtpPacket(5), agent.rtpPort);
    expect((await moved.rtp.waitFor(1)).data).toEqual(rtpPacket(5));
    // The same SDP again (a re-INVITE that changed nothing) keeps the latch.
    await moved.rtp.send(rtpPacket(6), visitor.rtpPort);
    await bob.rtp.waitFor(2);
    visitor.setRemote({ address: '127.0.0.1', rtpPort: moved.rtp.port, rtcpPort: moved.rtcp.port });
    expect(visitor.stats().latchedTo?.port).toBe(moved.rtp.port);
  });
  it('after a re-INVITE moved the media, a late packet of the old stream does not latch it back', async () => {
    let clock = 1_000_000;
    const { visitor, agent, alice, bob } = await call({ engine: { now: () => clock } });
    await alice.rtp.send(rtpPacket(1, 0xaa), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    const moved = await phone();
    visitor.setRemote({ address: '127.0.0.1', rtpPort: moved.rtp.port, rtcpPort: moved.rtcp.port });
    // A packet Alice's old port sent before the move arrives after it: not relayed, no latch.
    await alice.rtp.send(rtpPacket(2, 0xaa), visitor.rtpPort);
    await bob.rtp.send(rtpPacket(5, 0xbb), agent.rtpPort);
    expect((await moved.rtp.waitFor(1)).data).toEqual(rtpPacket(5, 0xbb));
    expect(visitor.stats()).toMatchObject({ rejectedPackets: 1 });
    expect(visitor.stats().latchedTo).toBeUndefined();
    expect(alice.rtp.received).toHaveLength(0);
    // A second later the old address is an ordinary source again (the phone moved back behind NAT).
    clock += 1000;
    await alice.rtp.send(rtpPacket(3, 0xaa), visitor.rtpPort);
    await bob.rtp.waitFor(2);
    expect(visitor.stats().latchedTo?.port).toBe(alice.rtp.port);
  });
});

describe('relay engine: inactivity', () => {
  it('emits inactive once per silence period, only for a transport whose media started', async () => {
    const { router, visitor, agent, alice, bob } = await call({ inactivityTimeoutMs: 150 });
    const events: { transportId: string; silentForMs: number }[] = [];
    router.on('inactive', (event) => events.push(event));

    // A bounded negative check (no event exists for "none"): over twice the timeout, and
    // no media yet, so nothing to report.
    await sleep(350);
    expect(events).toHaveLength(0);

    await alice.rtp.send(rtpPacket(1), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    const sentAt = Date.now();
    await expect.poll(() => events.length, { timeout: 2000, interval: 10 }).toBe(1);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(140);
    expect(events[0]!.transportId).toBe(visitor.id);
    expect(events[0]!.silentForMs).toBeGreaterThanOrEqual(150);

    // A bounded negative check: still silent for over twice the timeout, no repeat,
    // and the agent leg never started.
    await sleep(400);
    expect(events).toHaveLength(1);
    expect(events.some((e) => e.transportId === agent.id)).toBe(false);

    await alice.rtp.send(rtpPacket(2), visitor.rtpPort); // media again, then a new silence
    await expect.poll(() => events.length, { timeout: 2000, interval: 10 }).toBe(2);
  });

  it('survives a listener that throws', async () => {
    const { router, visitor, alice, bob } = await call({ inactivityTimeoutMs: 60 });
    let calls = 0;
    router.on('inactive', () => {
      calls++;
      throw new Error('listener bug');
    });
    await alice.rtp.send(rtpPacket(1), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    await expect.poll(() => calls, { timeout: 2000, interval: 10 }).toBe(1);
    expect(router.closed).toBe(false);
  });
});

describe('relay engine: ports and closing', () => {
  it('returns ports on close: allocate the whole range, close, allocate again', async () => {
    const e = engine({}, 3);
    const router = e.createRouter({ callId: 'a', inactivityTimeoutMs: 1000 });
    const first = await Promise.all(
      [0, 1, 2].map((i) => router.createPlainTransport({ name: `${i}` })),
    );
    expect(e.ports).toEqual({ inUse: 3, capacity: 3 });
    const error = await router
      .createPlainTransport({ name: 'one too many' })
      .catch((x: unknown) => x);
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe('media_ports_exhausted');
    expect((error as ParleyError).httpStatus).toBe(503);

    router.close();
    expect(first.every((t) => t.closed)).toBe(true);
    expect(e.ports.inUse).toBe(0);
    // A closed transport's ports are free in the kernel too.
    const probe = await openTestSocket(first[0]!.rtcpPort);
    await probe.close();

    const again = e.createRouter({ callId: 'b', inactivityTimeoutMs: 1000 });
    const second = await Promise.all(
      [0, 1, 2].map((i) => again.createPlainTransport({ name: `${i}` })),
    );
    expect(second.map((t) => t.rtpPort).sort()).toEqual(first.map((t) => t.rtpPort).sort());
  });

  it('closing a transport frees its ports and stops the piped leg from forwarding', async () => {
    const { router, visitor, agent, alice, bob, engine: e } = await call();
    agent.close();
    agent.close(); // safe twice
    expect(agent.closed).toBe(true);
    expect(router.transports.size).toBe(1);
    expect(e.ports.inUse).toBe(1);
    await alice.rtp.send(rtpPacket(1), visitor.rtpPort);
    // Counted unrouted: read, and not relayed.
    await expect
      .poll(() => visitor.stats().unroutedPackets, { timeout: 2000, interval: 10 })
      .toBe(1);
    expect(bob.rtp.received).toHaveLength(0);
    const probe = await openTestSocket(agent.rtpPort);
    await probe.close();
  });

  it('cascades engine → routers → transports, each close safe twice, events once', async () => {
    const e = engine();
    const routers = [0, 1].map((i) => e.createRouter({ callId: `c${i}`, inactivityTimeoutMs: 50 }));
    const transports = await Promise.all(
      routers.flatMap((r) => [
        r.createPlainTransport({ name: 'a' }),
        r.createPlainTransport({ name: 'b' }),
      ]),
    );
    let closeEvents = 0;
    for (const r of routers) r.on('close', () => closeEvents++);
    expect(e.routerCount).toBe(2);

    routers[0]!.close();
    routers[0]!.close();
    expect(e.routerCount).toBe(1);
    expect(closeEvents).toBe(1);

    await e.close();
    await e.close();
    expect(closeEvents).toBe(2);
    expect(e.routerCount).toBe(0);
    expect(routers.every((r) => r.closed)).toBe(true);
    expect(transports.every((t) => t.closed)).toBe(true);
    expect(e.ports.inUse).toBe(0);
    expect(() => e.createRouter({ callId: 'late', inactivityTimeoutMs: 0 })).toThrow(ParleyError);
    await expect(routers[1]!.createPlainTransport({ name: 'late' })).rejects.toThrow(ParleyError);
    for (const t of transports) {
      const probe = await openTestSocket(t.rtpPort);
      await probe.close();
    }
  });

  it('a router closed while binding ports gives them back', async () => {
    const e = engine({}, 2);
    const router = e.createRouter({ callId: 'x', inactivityTimeoutMs: 0 });
    const pending = router.createPlainTransport({ name: 'a' });
    router.close();
    await expect(pending).rejects.toThrow(ParleyError);
    await e.close();
    expect(e.ports.inUse).toBe(0);
  });
});
