/**
 * The engine contract's peers (see index.ts): a browser as the widget makes it
 * (@roamhq/wrtc, libwebrtc) and a SIP phone's media (plain UDP sockets that
 * send a PCMU tone and record what arrives), with the codecs and tones they
 * use. Audio is checked as audio: the tone one side sends is found, at its
 * frequency, in what the other side decodes.
 */
import { readFileSync } from 'node:fs';
import { cachedTone } from '@parley/testkit';
import { decodeUlaw, toneShare } from '@parley/testkit/pcm';
import {
  feedTone,
  gathered,
  loadWrtc,
  type WrtcDataChannel,
  type WrtcPeerConnection,
} from '@parley/testkit/wrtc';
import type { AudioCodec } from '../engine.js';
import { rtpPayload, type TestPhone, type TestSocket } from '../test-phone.js';

export const PCMU: AudioCodec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
/** The agent's number for telephone-event (a PBX's; the browser's differs). */
export const AGENT_EVENT: AudioCodec = {
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
