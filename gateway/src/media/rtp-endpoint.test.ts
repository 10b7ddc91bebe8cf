import { pino } from 'pino';
import { until } from '@parley/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaEndpoint, RtpDirection, RtpPacketView } from './engine.js';
import { createRelayEngine } from './relay-engine.js';
import { parseRtp } from './rtp-packet.js';
import {
  openTestPhone,
  reservePortBase,
  rtcpPacket,
  rtpPacket,
  type TestPhone,
} from './test-phone.js';

const logger = pino({ level: 'silent' });
const PCMU = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
const EVENTS = { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The engine's clock: the application's floor is timed, and tests move time instead of sleeping. */
let clock = 1_000_000;

async function setup() {
  const base = await reservePortBase(16);
  const engine = createRelayEngine({
    address: '127.0.0.1',
    portMin: base,
    portMax: base + 15,
    logger,
    now: () => clock,
  });
  cleanups.push(() => engine.close());
  const router = engine.createRouter({ callId: 'c', inactivityTimeoutMs: 0 });
  const visitor = await router.createPlainTransport({ name: 'visitor' });
  const agent = await router.createPlainTransport({ name: 'agent' });
  const phones: TestPhone[] = [];
  for (const transport of [visitor, agent]) {
    const p = await openTestPhone();
    cleanups.push(() => p.close());
    transport.setRemote({ address: '127.0.0.1', rtpPort: p.rtp.port, rtcpPort: p.rtcp.port });
    phones.push(p);
  }
  return { engine, router, visitor, agent, alice: phones[0]!, bob: phones[1]! };
}

function record(endpoint: MediaEndpoint): { packet: RtpPacketView; direction: RtpDirection }[] {
  const seen: { packet: RtpPacketView; direction: RtpDirection }[] = [];
  endpoint.on('rtp', (packet, direction) =>
    seen.push({ packet: { ...packet, payload: Buffer.from(packet.payload) }, direction }),
  );
  return seen;
}

describe('relay engine media endpoint', () => {
  it('hears a leg that is not piped and speaks on it in one stream', async () => {
    const { router, visitor, alice } = await setup();
    const endpoint = await router.openEndpoint(visitor, { codec: PCMU, telephoneEvent: EVENTS });
    const seen = record(endpoint);
    for (let i = 0; i < 3; i += 1) await alice.rtp.send(rtpPacket(i, 0x11), visitor.rtpPort);
    await until(() => seen.length === 3, 'three packets in');
    expect(seen.map((s) => [s.direction, s.packet.sequenceNumber, s.packet.payload[0]])).toEqual([
      ['in', 0, 0x11],
      ['in', 1, 0x11],
      ['in', 2, 0x11],
    ]);
    expect(visitor.stats().unroutedPackets).toBe(0);

    for (let i = 0; i < 3; i += 1) {
      const sent = endpoint.send({
        payloadType: 0,
        marker: i === 0,
        timestamp: 1000 + i * 160,
        payload: Buffer.alloc(160, 0x22),
      });
      expect(sent).toBe(true);
    }
    // A payload type the leg did not negotiate is refused.
    expect(
      endpoint.send({ payloadType: 8, marker: false, timestamp: 0, payload: Buffer.alloc(1) }),
    ).toBe(false);
    const got = await Promise.all([1, 2, 3].map((n) => alice.rtp.waitFor(n)));
    const views = got.map((g) => parseRtp(g.data)!);
    expect(new Set(views.map((v) => v.ssrc)).size).toBe(1);
    expect(views[1]!.sequenceNumber).toBe((views[0]!.sequenceNumber + 1) & 0xffff);
    expect(views[2]!.timestamp - views[1]!.timestamp).toBe(160);
    expect(views[0]!.marker).toBe(true);
    expect(seen.filter((s) => s.direction === 'out')).toHaveLength(3);
  });

  it('taps a piped leg both ways and keeps its SSRC and numbering when a prompt cuts in', async () => {
    const { router, visitor, agent, alice, bob } = await setup();
    router.pipe(visitor, agent);
    const endpoint = await router.openEndpoint(visitor, { codec: PCMU });
    const seen = record(endpoint);
    // Bob (the agent) speaks: Alice hears it unchanged, the endpoint sees it going out.
    await bob.rtp.send(rtpPacket(500, 0x33, 0xb0b), agent.rtpPort);
    const relayed = await alice.rtp.waitFor(1);
    expect(relayed.data.equals(rtpPacket(500, 0x33, 0xb0b))).toBe(true);
    // Alice speaks: Bob hears it, the endpoint sees it coming in.
    await alice.rtp.send(rtpPacket(7, 0x44), visitor.rtpPort);
    await bob.rtp.waitFor(1);
    await until(() => seen.length === 2, 'the tap both ways');
    expect(seen.map((s) => s.direction).sort()).toEqual(['in', 'out']);

    // A prompt cuts in: same SSRC, next sequence number; Bob's packets are held back meanwhile.
    endpoint.send({ payloadType: 0, marker: true, timestamp: 0, payload: Buffer.alloc(160, 0x55) });
    await bob.rtp.send(rtpPacket(501, 0x33, 0xb0b), agent.rtpPort);
    endpoint.send({
      payloadType: 0,
      marker: false,
      timestamp: 160,
      payload: Buffer.alloc(160, 0x55),
    });
    const p1 = parseRtp((await alice.rtp.waitFor(2)).data)!;
    const p2 = parseRtp((await alice.rtp.waitFor(3)).data)!;
    expect([p1.ssrc, p2.ssrc]).toEqual([0xb0b, 0xb0b]);
    expect([p1.sequenceNumber, p2.sequenceNumber]).toEqual([501, 502]);
    expect([p1.payload[0], p2.payload[0]]).toEqual([0x55, 0x55]);
    expect(p1.timestamp).toBeGreaterThanOrEqual(500 * 160 + 160);
    // Bob's packet reached the relay during the prompt and was dropped.
    await until(() => agent.stats().rtpPacketsIn === 2, "Bob's packet at the relay");
    expect(alice.rtp.received).toHaveLength(3);

    // After the floor, Bob is heard again in the same stream.
    clock += 150;
    await bob.rtp.send(rtpPacket(510, 0x66, 0xb0b), agent.rtpPort);
    const back = parseRtp((await alice.rtp.waitFor(4)).data)!;
    expect(back.payload[0]).toBe(0x66);
    expect(back.ssrc).toBe(0xb0b);
    expect(back.sequenceNumber).toBe(503);
    expect(back.marker).toBe(true);
  });

  it('stops relaying RTCP to and from a leg an application spoke on', async () => {
    const { router, visitor, agent, alice, bob } = await setup();
    router.pipe(visitor, agent);
    await bob.rtcp.send(rtcpPacket(1), agent.rtcpPort);
    await alice.rtcp.waitFor(1);
    const endpoint = await router.openEndpoint(visitor, { codec: PCMU });
    endpoint.send({ payloadType: 0, marker: true, timestamp: 0, payload: Buffer.alloc(160) });
    await alice.rtp.waitFor(1);
    const unrouted = () => agent.stats().unroutedPackets + visitor.stats().unroutedPackets;
    await bob.rtcp.send(rtcpPacket(2), agent.rtcpPort);
    await alice.rtcp.send(rtcpPacket(3), visitor.rtcpPort);
    // Both reached the relay and had nowhere to go (RTCP is terminated on this leg).
    await until(() => unrouted() === 2, 'both RTCP packets unrouted');
    // Piping again does not relink RTCP.
    router.pipe(visitor, agent);
    await bob.rtcp.send(rtcpPacket(4), agent.rtcpPort);
    await until(() => unrouted() === 3, 'RTCP unrouted after a new pipe');
    expect(alice.rtcp.received).toHaveLength(1);
    expect(bob.rtcp.received).toHaveLength(0);
  });

  it('allows one endpoint per transport and closes with its transport', async () => {
    const { router, visitor } = await setup();
    const endpoint = await router.openEndpoint(visitor, { codec: PCMU });
    await expect(router.openEndpoint(visitor, { codec: PCMU })).rejects.toThrow(/already/);
    let closed = 0;
    endpoint.on('close', () => (closed += 1));
    visitor.close();
    expect(endpoint.closed).toBe(true);
    expect(closed).toBe(1);
    endpoint.close();
    expect(closed).toBe(1);
    await expect(router.openEndpoint(visitor, { codec: PCMU })).rejects.toThrow(/not open/);
  });

  it('survives a throwing application', async () => {
    const { router, visitor, agent, alice, bob } = await setup();
    router.pipe(visitor, agent);
    const endpoint = await router.openEndpoint(visitor, { codec: PCMU });
    endpoint.on('rtp', () => {
      throw new Error('application bug');
    });
    await alice.rtp.send(rtpPacket(1), visitor.rtpPort);
    await bob.rtp.waitFor(1);
  });
});
