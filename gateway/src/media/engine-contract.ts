/**
 * The media engine contract: what `calls/` relies on from any engine behind
 * the seam (engine.ts), checked with real peers. One suite, run against each
 * engine (`relay-engine.wrtc.test.ts`, `mediasoup/mediasoup-engine.wrtc.test.ts`):
 * - browsers: @roamhq/wrtc (libwebrtc, Chrome's stack) for audio, the data
 *   channel and ICE/DTLS; libdatachannel (node-datachannel) where a test must
 *   see each packet's payload type;
 * - SIP phones and trunks: plain UDP sockets that send a PCMU tone and record
 *   what arrives, byte for byte where it matters.
 * Audio is checked as audio: the tone one side sends is found, at its
 * frequency, in what the other side decodes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyError } from '@parley/shared/errors';
import { PortAllocator, cachedTone } from '@parley/testkit';
import { NdcPeer } from '@parley/testkit/ndc-peer';
import { decodeUlaw, toneShare } from '@parley/testkit/pcm';
import {
  feedTone,
  gathered,
  loadWrtc,
  type WrtcDataChannel,
  type WrtcPeerConnection,
} from '@parley/testkit/wrtc';
import type {
  AudioCodec,
  MediaEngine,
  MediaRouter,
  PlainRtpTransport,
  WebRtcTransport,
} from './engine.js';
import {
  openTestPhone,
  openTestSocket,
  rtpPayload,
  type TestPhone,
  type TestSocket,
} from './test-phone.js';

export interface EnginePorts {
  readonly portMin: number;
  readonly portMax: number;
  readonly webrtcPortMin: number;
  readonly webrtcPortMax: number;
}

/** Makes the engine under test on 127.0.0.1 with these ports. */
export type EngineFactory = (ports: EnginePorts) => Promise<MediaEngine>;

export const PCMU: AudioCodec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
/** The agent's number for telephone-event (a PBX's; the browser's differs). */
const AGENT_EVENT: AudioCodec = {
  name: 'telephone-event',
  clockRate: 8000,
  channels: 1,
  payloadType: 101,
};
/** The tone browsers send, and the one phones send. */
export const BROWSER_HZ = 1000;
export const PHONE_HZ = 440;
export const LOOPBACK = '127.0.0.1';

const wrtc = loadWrtc();
const portAllocator = new PortAllocator();

/** A libwebrtc peer as the widget makes it: a microphone (a 1 kHz tone) and the `parley` channel. */
export class Browser {
  readonly pc: WrtcPeerConnection;
  readonly channel: WrtcDataChannel;
  readonly messages: string[] = [];
  /** Decoded audio from the gateway, newest last (at most ~2 s). */
  readonly heard: number[] = [];
  sampleRate = 48000;
  readonly #stopTone: () => void;

  constructor(options: { readonly dataChannel?: boolean } = {}) {
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    this.pc.addTrack(track, new wrtc.MediaStream([track]));
    this.#stopTone = feedTone(source, { frequency: BROWSER_HZ, sampleRate: 8000 });
    this.pc.ontrack = ({ track: incoming }) => {
      const sink = new wrtc.nonstandard.RTCAudioSink(incoming);
      sink.ondata = (data) => {
        this.sampleRate = data.sampleRate;
        for (const s of data.samples) this.heard.push(s);
        if (this.heard.length > data.sampleRate * 2) this.heard.splice(0, data.sampleRate);
      };
    };
    this.channel = options.dataChannel === false ? undefined! : this.pc.createDataChannel('parley');
    if (this.channel) {
      this.channel.onmessage = ({ data }) => this.messages.push(String(data));
    }
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return this.pc.localDescription!.sdp;
  }

  async answer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await gathered(this.pc);
    return this.pc.localDescription!.sdp;
  }

  apply(answer: string): Promise<void> {
    return this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  /** Share of the last 0.5 s of what it heard that is the phone's tone. */
  hears(frequency: number): number {
    const window = this.heard.slice(-Math.floor(this.sampleRate / 2));
    return window.length < this.sampleRate / 4 ? 0 : toneShare(window, this.sampleRate, frequency);
  }

  close(): void {
    this.#stopTone();
    this.pc.close();
  }
}

/** A SIP phone's media: RTP and RTCP sockets, a PCMU tone to send, what it received. */
export class Phone {
  readonly #phone: TestPhone;
  #timer: NodeJS.Timeout | undefined;
  #seq = 1000;
  ssrc = 0x5eed0001;

  constructor(phone: TestPhone) {
    this.#phone = phone;
  }

  get rtp(): TestSocket {
    return this.#phone.rtp;
  }

  get rtcp(): TestSocket {
    return this.#phone.rtcp;
  }

  /** Sends its PCMU tone every 20 ms to `port`, from `from` (default its RTP socket: NAT tests differ). */
  async talk(port: number, from: TestSocket = this.#phone.rtp): Promise<void> {
    this.quiet();
    const tone = readFileSync(
      await cachedTone({ freqHz: PHONE_HZ, seconds: 2, raw: true, encoding: 'u-law' }),
    );
    let offset = 0;
    this.#timer = setInterval(() => {
      const payload = tone.subarray(offset, offset + 160);
      offset = (offset + 160) % (tone.length - 160);
      void from.send(this.packet(0, payload), port).catch(() => undefined);
    }, 20);
  }

  quiet(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  packet(payloadType: number, payload: Buffer, marker = false): Buffer {
    const out = Buffer.alloc(12 + payload.length);
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | payloadType;
    this.#seq = (this.#seq + 1) & 0xffff;
    out.writeUInt16BE(this.#seq, 2);
    out.writeUInt32BE((this.#seq * 160) >>> 0, 4);
    out.writeUInt32BE(this.ssrc >>> 0, 8);
    payload.copy(out, 12);
    return out;
  }

  /** Share of the PCMU it received on `socket` (its last 0.5 s) that is the browser's tone. */
  static hears(socket: TestSocket, frequency: number, payloadType = 0): number {
    const audio = socket.received
      .map((r) => r.data)
      .filter((d) => d.length > 12 && (d[1]! & 0x7f) === payloadType)
      .slice(-25);
    if (audio.length < 10) return 0;
    const samples = decodeUlaw(Buffer.concat(audio.map(rtpPayload)));
    return toneShare(samples, 8000, frequency);
  }

  close(): Promise<void> {
    this.quiet();
    return this.#phone.close();
  }
}

export function describeEngineContract(name: string, factory: EngineFactory): void {
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
    const r = (await engine()).createRouter({ callId: `contract-${name}`, inactivityTimeoutMs });
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

  describe(`${name}: the media engine contract`, () => {
    it('answers an ICE restart (the browser changed networks): new ICE credentials, audio both ways again', async () => {
      const { web, plain, visitor, agent, states, answer } = await browserCall();
      await expect.poll(() => states.includes('connected'), { timeout: 10_000 }).toBe(true);
      await agent.talk(plain.rtpPort);
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);

      // libwebrtc takes RTCOfferOptions; the wrapper's types do not say so.
      const createOffer = visitor.pc.createOffer.bind(visitor.pc) as (options: {
        iceRestart: boolean;
      }) => ReturnType<typeof visitor.pc.createOffer>;
      await visitor.pc.setLocalDescription(await createOffer({ iceRestart: true }));
      await gathered(visitor.pc);
      const reoffer = visitor.pc.localDescription!.sdp;
      const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
      expect(ufrag(reoffer)).not.toBe(ufrag(answer));
      const reanswer = await web.renegotiate(reoffer);
      expect(ufrag(reanswer)).toBeDefined();
      expect(ufrag(reanswer)).not.toBe(ufrag(answer));
      await visitor.apply(reanswer);

      // Audio after the restart: what is heard from here on, both ways.
      visitor.heard.length = 0;
      const phoneHad = agent.rtp.received.length;
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 15_000 }).toBeGreaterThan(0.8);
      await expect
        .poll(
          () => agent.rtp.received.length - phoneHad > 50 && Phone.hears(agent.rtp, BROWSER_HZ),
          {
            timeout: 15_000,
          },
        )
        .toBeGreaterThan(0.8);
    });

    it('bridges a browser to a phone: ICE-lite answer, DTLS, audio both ways, the data channel in order', async () => {
      const { web, plain, visitor, agent, states, opened, answer } = await browserCall();
      expect(answer).toMatch(/a=ice-lite/);
      // Exactly the agent's codec (no other to transcode from), and telephone-event at
      // the browser's own number for it (werift also answers it at other clock rates).
      const formats = /m=audio \d+ UDP\/TLS\/RTP\/SAVPF ([\d ]+)\r\n/.exec(answer)?.[1] ?? '';
      const media = formats
        .split(' ')
        .filter((pt) => !new RegExp(`a=rtpmap:${pt} telephone-event/`).test(answer));
      expect(media).toEqual(['0']);
      expect(answer).toMatch(/a=rtpmap:126 telephone-event\/8000/);
      expect(answer).toMatch(/m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
      await expect.poll(() => states.includes('connected'), { timeout: 10_000 }).toBe(true);

      await agent.talk(plain.rtpPort);
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      await expect
        .poll(() => Phone.hears(agent.rtp, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      // The gateway's RTP comes from the port its SDP gave the phone.
      expect(agent.rtp.received.at(-1)!.from.port).toBe(plain.rtpPort);

      await opened;
      const texts = Array.from({ length: 20 }, (_, i) => `visitor ${i}`);
      const got: string[] = [];
      web.on('message', (text) => got.push(text));
      for (const text of texts) visitor.channel.send(text);
      await expect.poll(() => got.length, { timeout: 5000 }).toBe(texts.length);
      expect(got).toEqual(texts);
      const back = Array.from({ length: 20 }, (_, i) => `gateway ${i}`);
      for (const text of back) expect(web.sendMessage(text)).toBe(true);
      await expect.poll(() => visitor.messages.length, { timeout: 5000 }).toBe(back.length);
      expect(visitor.messages).toEqual(back);

      await expect
        .poll(() => [web.stats().packetsIn > 10, plain.stats().packetsIn > 10], { timeout: 10_000 })
        .toEqual([true, true]);
      expect(web.stats().packetsOut).toBeGreaterThan(10);
      expect(plain.stats().packetsOut).toBeGreaterThan(10);
    });

    it('sends to the phone’s SDP address before it speaks, then follows its real source (NAT), and keeps out a stranger', async () => {
      const { plain, visitor, agent } = await browserCall();
      // The browser speaks first: the phone (an echo, say) gets it at its SDP address.
      await expect
        .poll(() => Phone.hears(agent.rtp, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      // Behind NAT, its packets come from elsewhere: media follows them.
      const nat = await socket();
      await agent.talk(plain.rtpPort, nat);
      await expect
        .poll(() => Phone.hears(nat, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      await expect.poll(() => plain.stats().latchedTo?.port, { timeout: 5000 }).toBe(nat.port);
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      // A stranger spraying the port while the phone is live takes nothing over.
      const stranger = await socket();
      for (let i = 0; i < 20; i += 1) {
        await stranger.send(agent.packet(0, Buffer.alloc(160, 0x00)), plain.rtpPort);
      }
      const before = nat.received.length;
      await expect.poll(() => nat.received.length, { timeout: 5000 }).toBeGreaterThan(before + 20);
      expect(stranger.received).toHaveLength(0);
      expect(plain.stats().latchedTo?.port).toBe(nat.port);
    });

    it('follows a re-INVITE that moves the phone’s media, and survives a hold at 0.0.0.0', async () => {
      const { plain, visitor, agent } = await browserCall();
      await agent.talk(plain.rtpPort);
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      // Old-style hold (RFC 3264 §8.4): nothing breaks, media resumes after.
      plain.setRemote({ address: '0.0.0.0', rtpPort: agent.rtp.port });
      plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
      // A re-INVITE moved the phone's media to another port.
      const moved = await phone();
      plain.setRemote({ address: LOOPBACK, rtpPort: moved.rtp.port, rtcpPort: moved.rtcp.port });
      agent.quiet();
      await expect
        .poll(() => Phone.hears(moved.rtp, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
      await moved.talk(plain.rtpPort);
      // Its stream may carry a new SSRC (RFC 3550 §8.2): the browser hears it.
      moved.ssrc = 0x5eed0002;
      visitor.heard.length = 0;
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    });

    it('carries RFC 4733 events: the phone’s to the browser with the browser’s number, and DTMF to the phone', async () => {
      const r = await router();
      const web = await r.createWebRtcTransport({ name: 'visitor' });
      const plain = await r.createPlainTransport({ name: 'agent' });
      // libdatachannel shows each packet's payload type: PCMU, and telephone-event/8000 at 126 as Chrome numbers it.
      const peer = new NdcPeer({
        codecs: [
          { payloadType: 0, rtpmap: 'PCMU/8000' },
          { payloadType: 126, rtpmap: 'telephone-event/8000' },
        ],
        dataChannel: false,
      });
      cleanups.push(() => peer.close());
      const received = () => peer.received.map((p) => p[1]! & 0x7f);
      const connected = new Promise<void>((resolve) =>
        web.on('state', (s) => s === 'connected' && resolve()),
      );
      const agent = await phone();
      const answer = await web.answer(await peer.offer(), PCMU, AGENT_EVENT);
      plain.setRemote({ address: LOOPBACK, rtpPort: agent.rtp.port, rtcpPort: agent.rtcp.port });
      r.pipe(web, plain);
      peer.apply(answer);
      await connected;

      // The browser's audio, so the gateway's stream toward the phone is live.
      const talking = setInterval(() => peer.send(0, Buffer.alloc(160, 0xff)), 20);
      cleanups.push(() => clearInterval(talking));
      await agent.talk(plain.rtpPort);
      await expect.poll(() => received().includes(0), { timeout: 10_000 }).toBe(true);
      // The phone's event "7" at its own number (101), in its audio stream.
      for (let i = 0; i < 6; i += 1) {
        const end = i >= 3;
        await agent.rtp.send(
          agent.packet(101, Buffer.from([7, end ? 0x8a : 0x0a, 0x01, 0x40]), i === 0),
          plain.rtpPort,
        );
      }
      await expect.poll(() => received().includes(126), { timeout: 10_000 }).toBe(true);
      expect(received()).not.toContain(101);

      // DTMF from the browser (INFO) as RFC 4733 events toward the phone, at the agent's number.
      await expect.poll(() => agent.rtp.received.length, { timeout: 10_000 }).toBeGreaterThan(5);
      expect(await web.sendDtmf('5', 160)).toBe(true);
      const events = () =>
        agent.rtp.received.map((r) => r.data).filter((d) => (d[1]! & 0x7f) === 101);
      // RFC 4733 §2.5.1: updates every 50 ms, then the end packet three times.
      await expect
        .poll(() => events().filter((d) => (rtpPayload(d)[1]! & 0x80) !== 0).length, {
          timeout: 5000,
        })
        .toBe(3);
      expect(events().length).toBeGreaterThanOrEqual(4);
      expect(events().every((d) => rtpPayload(d)[0] === 5)).toBe(true);
      // The browser's audio to the phone carries on after the event.
      const after = agent.rtp.received.length;
      await expect
        .poll(() => agent.rtp.received.length, { timeout: 5000 })
        .toBeGreaterThan(after + 5);
    });

    it('offers to a browser agent (the desk) and bridges it to a SIP visitor', async () => {
      const r = await router();
      const desk = await r.createWebRtcTransport({ name: 'agent:desk' });
      const plain = await r.createPlainTransport({ name: 'visitor' });
      const caller = await phone();
      plain.setRemote({ address: LOOPBACK, rtpPort: caller.rtp.port, rtcpPort: caller.rtcp.port });
      const deskPeer = browser({ dataChannel: false });
      // The caller's codecs, in its order: the desk keeps the first it has.
      const offer = await desk.offer([
        PCMU,
        { name: 'opus', clockRate: 48000, channels: 2, payloadType: 111 },
      ]);
      expect(offer).toMatch(/a=setup:actpass/);
      const codec = await desk.accept(await deskPeer.answer(offer));
      expect(codec).toMatchObject({ name: 'PCMU', payloadType: 0 });
      r.pipe(plain, desk);
      await caller.talk(plain.rtpPort);
      await expect.poll(() => deskPeer.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      await expect
        .poll(() => Phone.hears(caller.rtp, BROWSER_HZ), { timeout: 10_000 })
        .toBeGreaterThan(0.8);
    });

    it('bridges two browsers: a visitor and a desk agent', async () => {
      const r = await router();
      const visitorLeg = await r.createWebRtcTransport({ name: 'visitor' });
      const deskLeg = await r.createWebRtcTransport({ name: 'agent:desk' });
      const visitor = browser();
      const desk = browser({ dataChannel: false });
      const visitorOffer = await visitor.offer();
      const deskOffer = await deskLeg.offer([PCMU]);
      const codec = await deskLeg.accept(await desk.answer(deskOffer));
      const answer = await visitorLeg.answer(visitorOffer, codec);
      r.pipe(visitorLeg, deskLeg);
      await visitor.apply(answer);
      // Both send 1 kHz: each hears the other's tone.
      await expect.poll(() => visitor.hears(BROWSER_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      await expect.poll(() => desk.hears(BROWSER_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    });

    it('relays two plain legs (a SIP visitor and a phone) both ways, RTP and RTCP, byte for byte', async () => {
      const r = await router();
      const a = await r.createPlainTransport({ name: 'visitor' });
      const b = await r.createPlainTransport({ name: 'agent' });
      const alice = await phone();
      const bob = await phone();
      a.setRemote({ address: LOOPBACK, rtpPort: alice.rtp.port, rtcpPort: alice.rtcp.port });
      b.setRemote({ address: LOOPBACK, rtpPort: bob.rtp.port, rtcpPort: bob.rtcp.port });
      r.pipe(a, b);
      // A codec the gateway never heard of (dynamic 98) passes unchanged.
      const sent = alice.packet(98, Buffer.from('any codec at all'));
      await alice.rtp.send(sent, a.rtpPort);
      expect((await bob.rtp.waitFor(1)).data).toEqual(sent);
      const back = bob.packet(98, Buffer.from('and back'));
      await bob.rtp.send(back, b.rtpPort);
      expect((await alice.rtp.waitFor(1)).data).toEqual(back);
      const report = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 42]);
      await alice.rtcp.send(report, a.rtcpPort);
      expect((await bob.rtcp.waitFor(1)).data).toEqual(report);
    });

    it('tells when a leg’s media stops, once per silence', async () => {
      const { router: r, plain, agent, visitor } = await browserCall({ inactivityTimeoutMs: 1000 });
      const events: { transportId: string }[] = [];
      r.on('inactive', (e) => events.push(e));
      await agent.talk(plain.rtpPort);
      await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
      expect(events).toHaveLength(0);
      agent.quiet();
      await expect
        .poll(() => events.filter((e) => e.transportId === plain.id).length, { timeout: 10_000 })
        .toBe(1);
      // The browser never stopped: its leg is not reported.
      expect(events.every((e) => e.transportId === plain.id)).toBe(true);
    });

    it('refuses what it cannot take with a clear error', async () => {
      const r = await router();
      const web = await r.createWebRtcTransport({ name: 'visitor' });
      await expect(web.answer('v=0\r\nnot sdp at all', PCMU)).rejects.toMatchObject({
        code: 'offer_required',
      });
      const other = await router();
      const foreign = await other.createPlainTransport({ name: 'elsewhere' });
      const plain = await r.createPlainTransport({ name: 'agent' });
      expect(() => r.pipe(plain, foreign)).toThrow(ParleyError);
      expect(() => plain.setRemote({ address: 'phone.example', rtpPort: 4000 })).toThrow(
        ParleyError,
      );
    });

    it('closes in cascade, each close safe twice, and frees what it held', async () => {
      const e = await engine();
      const r = e.createRouter({ callId: 'close', inactivityTimeoutMs: 0 });
      const closes: string[] = [];
      r.on('close', () => closes.push('router'));
      const plain: PlainRtpTransport = await r.createPlainTransport({ name: 'agent' });
      const web: WebRtcTransport = await r.createWebRtcTransport({ name: 'visitor' });
      expect(e.routerCount).toBe(1);
      r.close();
      r.close();
      expect(closes).toEqual(['router']);
      expect([r.closed, plain.closed, web.closed]).toEqual([true, true, true]);
      expect(e.routerCount).toBe(0);
      await expect(r.createPlainTransport({ name: 'late' })).rejects.toThrow(ParleyError);
      // The ports came back: every pair of the range can be had again.
      const again = e.createRouter({ callId: 'again', inactivityTimeoutMs: 0 });
      const legs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => again.createPlainTransport({ name: `leg ${i}` })),
      );
      expect(new Set(legs.map((l) => l.rtpPort)).size).toBe(20);
      await e.close();
      await e.close();
      expect(again.closed).toBe(true);
    });
  });
}
