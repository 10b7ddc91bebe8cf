/**
 * The media endpoint contract (engine.ts `openEndpoint`): what media
 * applications rely on from any engine, checked with real peers (libwebrtc
 * browsers, UDP phones; see engine-contract/). Run against each engine by
 * `relay-engine.wrtc.test.ts` and `mediasoup/mediasoup-engine.wrtc.test.ts`.
 * Audio is checked as audio: the tone a side sends is found in what the other
 * side decodes; the stream a phone receives is checked packet by packet.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cachedTone } from '@parley/testkit';
import { decodeUlaw, toneShare } from '@parley/testkit/pcm';
import {
  BROWSER_HZ,
  LOOPBACK,
  PCMU,
  PHONE_HZ,
  Phone,
  contractFixtures,
  type EngineFactory,
} from './engine-contract/index.js';
import type { AudioCodec, MediaEndpoint, MediaRouter, RtpDirection } from './engine.js';
import type { TestSocket } from './test-phone.js';

/** The tone an application plays (a prompt), told apart from the peers'. */
const APP_HZ = 700;
const EVENTS: AudioCodec = {
  name: 'telephone-event',
  clockRate: 8000,
  channels: 1,
  payloadType: 126,
};

/** Plays a µ-law tone on an endpoint every 20 ms, as a player does. */
async function play(endpoint: MediaEndpoint, hz = APP_HZ): Promise<() => void> {
  const tone = readFileSync(
    await cachedTone({ freqHz: hz, seconds: 2, raw: true, encoding: 'u-law' }),
  );
  let n = 0;
  const timer = setInterval(() => {
    const offset = (n * 160) % (tone.length - 160);
    endpoint.send({
      payloadType: 0,
      marker: n === 0,
      timestamp: 5000 + n * 160,
      payload: tone.subarray(offset, offset + 160),
    });
    n += 1;
  }, 20);
  return () => clearInterval(timer);
}

/** Share of the last 0.5 s of µ-law the endpoint saw in `direction` that is `hz`. */
function tapHears(
  seen: { payload: Buffer; direction: RtpDirection; pt: number }[],
  direction: RtpDirection,
  hz: number,
): number {
  const audio = seen.filter((s) => s.direction === direction && s.pt === 0).slice(-25);
  if (audio.length < 10) return 0;
  return toneShare(decodeUlaw(Buffer.concat(audio.map((s) => s.payload))), 8000, hz);
}

function tap(endpoint: MediaEndpoint) {
  const seen: { payload: Buffer; direction: RtpDirection; pt: number }[] = [];
  endpoint.on('rtp', (packet, direction) => {
    seen.push({ payload: Buffer.from(packet.payload), direction, pt: packet.payloadType });
    if (seen.length > 400) seen.splice(0, 200);
  });
  return seen;
}

/** RTP a phone received, as (ssrc, seq) pairs, from index `from`. */
function stream(socket: TestSocket, from = 0): { ssrc: number; seq: number }[] {
  return socket.received
    .slice(from)
    .filter((r) => r.data.length > 12 && (r.data[1]! & 0x7f) < 64)
    .map((r) => ({ ssrc: r.data.readUInt32BE(8), seq: r.data.readUInt16BE(2) }));
}

export function describeEndpointContract(name: string, factory: EngineFactory): void {
  const { cleanups, router, phone, browser } = contractFixtures(`endpoint-${name}`, factory);

  /** A visitor's browser answered with PCMU, piped to an agent's phone it hears talking. */
  async function bridged(r: MediaRouter) {
    const web = await r.createWebRtcTransport({ name: 'visitor' });
    const plain = await r.createPlainTransport({ name: 'agent' });
    const visitor = browser();
    const agent = await phone();
    const answer = await web.answer(await visitor.offer(), PCMU, EVENTS);
    plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
    r.pipe(web, plain);
    await visitor.apply(answer);
    await agent.talk(plain.rtpPort);
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 15_000 }).toBeGreaterThan(0.8);
    return { web, plain, visitor, agent };
  }

  describe(`${name}: the media endpoint contract`, () => {
    it('hears a phone leg that is not piped and speaks on it in one stream', async () => {
      const r = await router();
      const leg = await r.createPlainTransport({ name: 'caller' });
      const caller = await phone();
      leg.setRemote({ address: LOOPBACK, rtpPort: caller.rtp.port, rtcpPort: caller.rtcp.port });
      const endpoint = await r.openEndpoint(leg, { codec: PCMU, telephoneEvent: EVENTS });
      const seen = tap(endpoint);
      await caller.talk(leg.rtpPort);
      await expect
        .poll(() => tapHears(seen, 'in', PHONE_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      const stop = await play(endpoint);
      cleanups.push(stop);
      await expect
        .poll(() => Phone.hears(caller.rtp, APP_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      expect(tapHears(seen, 'out', APP_HZ)).toBeGreaterThan(0.8);
      const got = stream(caller.rtp);
      expect(new Set(got.map((p) => p.ssrc)).size).toBe(1);
      expect(got.every((p, i) => i === 0 || p.seq === ((got[i - 1]!.seq + 1) & 0xffff))).toBe(true);
      // An unknown payload type is refused, not sent.
      expect(
        endpoint.send({ payloadType: 8, marker: false, timestamp: 0, payload: Buffer.alloc(160) }),
      ).toBe(false);
    });

    it('speaks to a browser answered by the gateway alone, and hears it', async () => {
      const r = await router();
      const web = await r.createWebRtcTransport({ name: 'visitor' });
      const visitor = browser();
      const answer = await web.answer(await visitor.offer(), PCMU, EVENTS);
      await visitor.apply(answer);
      const endpoint = await r.openEndpoint(web, { codec: PCMU, telephoneEvent: EVENTS });
      const seen = tap(endpoint);
      const stop = await play(endpoint);
      cleanups.push(stop);
      await expect.poll(() => visitor.hears(APP_HZ), { timeout: 15_000 }).toBeGreaterThan(0.8);
      await expect
        .poll(() => tapHears(seen, 'in', BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
    });

    it('taps a bridged browser both ways, has the floor for a prompt, and hands it back', async () => {
      const r = await router();
      const { web, visitor, agent } = await bridged(r);
      const endpoint = await r.openEndpoint(web, { codec: PCMU, telephoneEvent: EVENTS });
      const seen = tap(endpoint);
      await expect
        .poll(() => tapHears(seen, 'in', BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      await expect
        .poll(() => tapHears(seen, 'out', PHONE_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      // A prompt cuts in: heard alone.
      const stop = await play(endpoint);
      await expect.poll(() => visitor.hears(APP_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      // It ends: the agent is heard again, the phone heard the browser all along.
      stop();
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      expect(Phone.hears(agent.rtp, BROWSER_HZ)).toBeGreaterThan(0.8);
    });

    it('follows a phone leg piped to a browser after it opened, in one stream', async () => {
      const r = await router();
      const plain = await r.createPlainTransport({ name: 'caller' });
      const caller = await phone();
      plain.setRemote({ address: LOOPBACK, rtpPort: caller.rtp.port, rtcpPort: caller.rtcp.port });
      const endpoint = await r.openEndpoint(plain, { codec: PCMU, telephoneEvent: EVENTS });
      const seen = tap(endpoint);
      await caller.talk(plain.rtpPort);
      await expect
        .poll(() => tapHears(seen, 'in', PHONE_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      // An agent at the desk answers: the caller's leg is bridged to a browser.
      const desk = await r.createWebRtcTransport({ name: 'agent:desk' });
      const deskPeer = browser();
      const codec = await desk.accept(await deskPeer.answer(await desk.offer([PCMU])));
      expect(codec.name).toBe('PCMU');
      r.pipe(plain, desk);
      await expect.poll(() => deskPeer.hears(PHONE_HZ), { timeout: 15_000 }).toBeGreaterThan(0.8);
      await expect
        .poll(() => Phone.hears(caller.rtp, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      expect(endpoint.closed).toBe(false);
      await expect
        .poll(() => tapHears(seen, 'out', BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      const mark = caller.rtp.received.length;
      const stop = await play(endpoint);
      await expect
        .poll(() => Phone.hears(caller.rtp, APP_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      stop();
      await expect
        .poll(() => Phone.hears(caller.rtp, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      // Bridged audio, the prompt and the bridged audio again: one stream.
      const got = stream(caller.rtp, mark);
      expect(new Set(got.map((p) => p.ssrc)).size).toBe(1);
      const jumps = got.filter((p, i) => i > 0 && ((p.seq - got[i - 1]!.seq) & 0xffff) > 3);
      expect(jumps).toEqual([]);
    });

    it('counts a leg that only an endpoint hears as live: not inactive while it talks, once it stops', async () => {
      // A browser bridged to an agent whose leg then goes (its number busy after early media):
      // voicemail hears the browser through an endpoint alone, for longer than the timeout.
      const r = await router(1000);
      const inactive: string[] = [];
      r.on('inactive', (e) => inactive.push(e.transportId));
      const { web, plain, visitor } = await bridged(r);
      const endpoint = await r.openEndpoint(web, { codec: PCMU, telephoneEvent: EVENTS });
      let heard = 0;
      endpoint.on('rtp', (_packet, direction) => {
        if (direction === 'in') heard += 1;
      });
      plain.close();
      // Three timeouts' worth of the browser's audio, heard by the endpoint alone.
      const from = heard;
      await expect.poll(() => heard - from, { timeout: 20_000 }).toBeGreaterThanOrEqual(150);
      expect(inactive.filter((id) => id === web.id)).toEqual([]);
      // The browser goes quiet: now its leg is reported, once.
      visitor.close();
      await expect
        .poll(() => inactive.filter((id) => id === web.id).length, { timeout: 10_000 })
        .toBe(1);
    });

    it('allows one endpoint per transport, closes with its transport, survives a throwing listener', async () => {
      const r = await router();
      const leg = await r.createPlainTransport({ name: 'caller' });
      const caller = await phone();
      leg.setRemote({ address: LOOPBACK, rtpPort: caller.rtp.port, rtcpPort: caller.rtcp.port });
      const endpoint = await r.openEndpoint(leg, { codec: PCMU });
      await expect(r.openEndpoint(leg, { codec: PCMU })).rejects.toThrow(/endpoint open already/);
      let calls = 0;
      endpoint.on('rtp', () => {
        calls += 1;
        throw new Error('application bug');
      });
      await caller.talk(leg.rtpPort);
      await expect.poll(() => calls, { timeout: 10_000 }).toBeGreaterThan(5);
      let closed = 0;
      endpoint.on('close', () => (closed += 1));
      leg.close();
      expect(endpoint.closed).toBe(true);
      expect(closed).toBe(1);
      expect(
        endpoint.send({ payloadType: 0, marker: true, timestamp: 0, payload: Buffer.alloc(160) }),
      ).toBe(false);
    });
  });
}
