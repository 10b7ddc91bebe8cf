/**
 * The stream a gateway sends on one leg when it is not a plain relay: one SSRC,
 * continuous sequence numbers and timestamps whatever the source does (a
 * browser that restarts its stream, DTMF events we insert), header extensions
 * stripped (a SIP phone has no use for the browser's).
 * @internal
 */
import { randomInt } from 'node:crypto';

const HEADER = 12;

export class RtpRewriter {
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  #seq = randomInt(0, 2 ** 16);
  #sourceSsrc: number | undefined;
  #tsOffset = 0;
  #lastTs = randomInt(0, 2 ** 32);
  #lastAt = 0;

  /**
   * Rewrites a source packet (its header fields given) into a fresh buffer:
   * our SSRC, the next sequence number, the source timestamp shifted so the
   * stream stays continuous across source changes.
   */
  media(
    payloadType: number,
    marker: boolean,
    sourceSsrc: number,
    timestamp: number,
    payload: Buffer,
    now: number,
  ): Buffer {
    if (sourceSsrc !== this.#sourceSsrc) {
      // A new source (or the first): continue from where our stream stands.
      this.#sourceSsrc = sourceSsrc;
      this.#tsOffset = (this.#lastTs + 960 - timestamp) >>> 0;
    }
    const ts = (timestamp + this.#tsOffset) >>> 0;
    this.#lastTs = ts;
    this.#lastAt = now;
    return this.#packet(payloadType, marker, ts, payload);
  }

  /** The timestamp "now" would have in this stream, for events inserted between media packets. */
  timestampAt(now: number, clockRate: number): number {
    if (this.#lastAt === 0) return this.#lastTs;
    return (this.#lastTs + Math.round(((now - this.#lastAt) * clockRate) / 1000)) >>> 0;
  }

  /** A packet we make ourselves (RFC 4733 events) in the same stream. */
  own(payloadType: number, marker: boolean, timestamp: number, payload: Buffer): Buffer {
    return this.#packet(payloadType, marker, timestamp, payload);
  }

  #packet(payloadType: number, marker: boolean, timestamp: number, payload: Buffer): Buffer {
    const out = Buffer.allocUnsafe(HEADER + payload.length);
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    this.#seq = (this.#seq + 1) & 0xffff;
    out.writeUInt16BE(this.#seq, 2);
    out.writeUInt32BE(timestamp >>> 0, 4);
    out.writeUInt32BE(this.ssrc, 8);
    payload.copy(out, HEADER);
    return out;
  }
}

/** RFC 4733 §3.2 event codes. */
export function dtmfEvent(digit: string): number | undefined {
  const d = digit.toUpperCase();
  if (/^[0-9]$/.test(d)) return Number(d);
  return { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 }[d];
}

/** RFC 4733 §2.3 payload: event, E|R|volume, duration (in timestamp units). */
export function dtmfPayload(event: number, end: boolean, duration: number, volume = 10): Buffer {
  const p = Buffer.alloc(4);
  p[0] = event;
  p[1] = (end ? 0x80 : 0) | (volume & 0x3f);
  p.writeUInt16BE(Math.min(duration, 0xffff), 2);
  return p;
}
