/**
 * One direction of a leg as continuous PCM: RTP packets placed by their
 * timestamps on a timeline, read out one 20 ms frame per pacer tick after a
 * short jitter delay. Lost packets, silence suppression and a peer that sends
 * nothing all come out as silence at the right place, so a recording keeps
 * real time and its two directions stay aligned for mixing.
 *
 * The timeline is anchored on the first packet (it is read out
 * {@link JITTER_FRAMES} frames later) and again whenever the stream jumps by
 * more than the window: a new SSRC, a sender restart, clock drift beyond a
 * second.
 */
import type { RtpPacketView } from '../engine.js';
import type { PcmCodec } from './codec.js';

/** Read-out delay: 60 ms of jitter absorbed. */
export const JITTER_FRAMES = 3;
/** Timeline kept ahead of the read point: two seconds. */
const WINDOW_SECONDS = 2;

export class Track {
  readonly #codec: PcmCodec;
  readonly #ring: Int16Array;
  /** Timestamp units per PCM sample (1 for G.711 and for Opus at 48 kHz). */
  readonly #tsPerSample: number;
  /** Absolute sample position of the next sample to read. */
  #read = 0;
  /** Packet timestamp ↔ sample position: position = (ts - #ts0) / tsPerSample + #pos0. */
  #ssrc: number | undefined;
  #ts0 = 0;
  #pos0 = 0;
  #anchored = false;
  /** Packets that came after their audio had been read out. */
  late = 0;
  /** Packets received with the codec's payload type. */
  packets = 0;

  constructor(codec: PcmCodec) {
    this.#codec = codec;
    this.#ring = new Int16Array(codec.sampleRate * WINDOW_SECONDS);
    this.#tsPerSample = codec.clockRate / codec.sampleRate;
  }

  /** A packet of this direction: decoded and placed (other payload types are ignored). */
  push(packet: RtpPacketView, payloadType: number): void {
    if (packet.payloadType !== payloadType) return;
    this.packets += 1;
    const frame = this.#codec.frameSamples;
    if (!this.#anchored || packet.ssrc !== this.#ssrc) {
      this.#anchor(packet);
    }
    // Signed 32-bit difference: timestamps wrap.
    const delta = ((packet.timestamp - this.#ts0) | 0) / this.#tsPerSample;
    let position = Math.round(this.#pos0 + delta);
    if (
      position < this.#read - this.#ring.length / 2 ||
      position > this.#read + this.#ring.length - frame * 2
    ) {
      // Far outside the window: the sender jumped. Start again from here.
      this.#anchor(packet);
      position = this.#pos0;
    }
    const pcm = this.#codec.decode(packet.payload);
    let start = 0;
    if (position < this.#read) {
      // Partly or wholly read out already.
      start = this.#read - position;
      if (start >= pcm.length) {
        this.late += 1;
        return;
      }
    }
    const size = this.#ring.length;
    for (let i = start; i < pcm.length; i += 1) this.#ring[(position + i) % size] = pcm[i]!;
  }

  /** The next 20 ms (silence where nothing arrived); advances the read point. */
  pull(): Int16Array {
    const frame = this.#codec.frameSamples;
    const out = new Int16Array(frame);
    const size = this.#ring.length;
    const at = this.#read % size;
    if (at + frame <= size) {
      out.set(this.#ring.subarray(at, at + frame));
      this.#ring.fill(0, at, at + frame);
    } else {
      for (let i = 0; i < frame; i += 1) {
        out[i] = this.#ring[(at + i) % size]!;
        this.#ring[(at + i) % size] = 0;
      }
    }
    this.#read += frame;
    return out;
  }

  #anchor(packet: RtpPacketView): void {
    this.#anchored = true;
    this.#ssrc = packet.ssrc;
    this.#ts0 = packet.timestamp;
    this.#pos0 = this.#read + JITTER_FRAMES * this.#codec.frameSamples;
  }
}
