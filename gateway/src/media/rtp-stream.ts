/**
 * The RTP stream a leg receives from the gateway when media applications may
 * speak on it: packets relayed from the piped leg and packets an application
 * sends (a prompt, music, a beep) come out as one stream, so the phone or
 * browser never sees a jump it could take for loss or a new call.
 *
 * - Until an application first sends, relayed packets pass unchanged (the
 *   relay's zero-copy path); the stream only notes their SSRC, sequence number
 *   and timestamp.
 * - From then on every packet is rewritten in place: the SSRC the leg already
 *   knew, sequence numbers and timestamps continuing across each switch of
 *   source (the gap is the wall-clock time between the two packets, at least
 *   one 20 ms frame), the marker bit set on the first packet of each source
 *   (RFC 3551 §4.1: a new talkspurt, so jitter buffers resynchronise).
 * - Within one source, sequence and timestamp offsets are kept, so loss and
 *   reordering the source had stay visible to the receiver.
 * - The application has the floor: while it sends (and for {@link FLOOR_MS}
 *   after its last packet) relayed packets are dropped, so a prompt played on a
 *   bridged leg is heard alone and the relay resumes by itself when it ends.
 * @internal
 */
import { randomInt } from 'node:crypto';
import { RTP_HEADER_LENGTH, type OutgoingRtp } from './rtp-packet.js';

/** How long after an application's last packet relayed packets stay muted: five frames. */
export const FLOOR_MS = 100;

/** The source key of packets an application sends (relayed sources are keyed by SSRC, ≥ 0). */
const APP = -1;

export class OutboundStream {
  readonly #clockRate: number;
  #rewriting = false;
  #ssrc = randomInt(1, 2 ** 32 - 1);
  /** Last sequence number and timestamp sent, and when. */
  #seq = randomInt(0, 2 ** 16);
  #ts = randomInt(0, 2 ** 32);
  #at = 0;
  #sent = false;
  /** The current source and its offsets onto this stream. */
  #source: number | undefined;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastOwnAt = -Infinity;

  /**
   * `rewriteFromStart`: every packet is rewritten from the first (a stream whose
   * SSRC is fixed in advance: the mediasoup engine's producer of a leg's stream).
   */
  constructor(clockRate: number, options: { readonly rewriteFromStart?: boolean } = {}) {
    this.#clockRate = clockRate;
    this.#rewriting = options.rewriteFromStart ?? false;
  }

  /** True once an application has sent: every packet is rewritten from then on. */
  get rewriting(): boolean {
    return this.#rewriting;
  }

  get ssrc(): number {
    return this.#ssrc;
  }

  /**
   * A packet relayed from the piped leg, about to be sent on this leg. False:
   * drop it (the application has the floor). Rewritten in place when the
   * stream is rewriting (the buffer is the relay's own, sent once).
   */
  relayed(packet: Buffer, now: number): boolean {
    if (packet.length < RTP_HEADER_LENGTH) return false;
    if (now - this.#lastOwnAt < FLOOR_MS) return false;
    const seq = packet.readUInt16BE(2);
    const ts = packet.readUInt32BE(4);
    const ssrc = packet.readUInt32BE(8);
    if (!this.#rewriting) {
      // Pass-through: remember where the stream stands for a later switch.
      this.#ssrc = ssrc;
      this.#seq = seq;
      this.#ts = ts;
      this.#at = now;
      this.#sent = true;
      return true;
    }
    let marker = (packet[1]! & 0x80) !== 0;
    if (this.#source !== ssrc) {
      this.#anchor(ssrc, seq, ts, now);
      marker = true;
    }
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTs = (ts + this.#tsOffset) >>> 0;
    packet[1] = (marker ? 0x80 : 0) | (packet[1]! & 0x7f);
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTs, 4);
    packet.writeUInt32BE(this.#ssrc, 8);
    this.#note(outSeq, outTs, now);
    return true;
  }

  /** An application's packet as a new buffer in this stream (its marker bit starts a new talkspurt). */
  own(rtp: OutgoingRtp, now: number): Buffer {
    this.#rewriting = true;
    this.#lastOwnAt = now;
    let marker = rtp.marker;
    if (this.#source !== APP || marker) {
      this.#anchor(APP, 0, rtp.timestamp, now);
      marker = true;
    }
    // An application's packets are in order: each is the next sequence number.
    const outSeq = this.#sent ? (this.#seq + 1) & 0xffff : this.#seq;
    const outTs = (rtp.timestamp + this.#tsOffset) >>> 0;
    const out = Buffer.allocUnsafe(RTP_HEADER_LENGTH + rtp.payload.length);
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | (rtp.payloadType & 0x7f);
    out.writeUInt16BE(outSeq, 2);
    out.writeUInt32BE(outTs, 4);
    out.writeUInt32BE(this.#ssrc, 8);
    rtp.payload.copy(out, RTP_HEADER_LENGTH);
    this.#note(outSeq, outTs, now);
    return out;
  }

  /** Maps a new source so that its next packet follows the last one sent. */
  #anchor(source: number, seq: number, ts: number, now: number): void {
    this.#source = source;
    const frame = Math.round(this.#clockRate / 50);
    const elapsed = this.#sent ? Math.round(((now - this.#at) * this.#clockRate) / 1000) : 0;
    const nextTs = this.#sent ? (this.#ts + Math.max(frame, elapsed)) >>> 0 : this.#ts;
    const nextSeq = this.#sent ? (this.#seq + 1) & 0xffff : this.#seq;
    this.#tsOffset = (nextTs - ts) >>> 0;
    this.#seqOffset = (nextSeq - seq) & 0xffff;
  }

  #note(seq: number, ts: number, now: number): void {
    // Only forward moves: a late (reordered) packet must not pull the stream back.
    if (!this.#sent || ((seq - this.#seq) & 0xffff) < 0x8000) {
      this.#seq = seq;
      this.#ts = ts;
      this.#at = now;
    }
    this.#sent = true;
  }
}
