/**
 * The digits a caller presses, as one stream: RFC 4733 telephone-events from
 * the leg's RTP, and SIP INFO digits the call hands in (`inject`), so a flow
 * gets each key once whichever way the phone sent it.
 *
 * RFC 4733 §2.5: one key press is one event, identified by its RTP timestamp
 * (the event's start); the sender repeats packets with a growing duration and
 * sends the end packet three times (§2.5.1.4). A digit is reported once, at
 * its first end packet, with its duration; `keydown` comes with its first
 * packet (a prompt can stop at once). An event whose end packets were all lost
 * is reported when the next event starts or {@link LOST_END_MS} after its last
 * packet.
 */
import { EventEmitter } from 'node:events';
import type { MediaEndpoint, RtpPacketView } from '../engine.js';

export type DigitSource = 'rfc4733' | 'info';

export interface Digit {
  /** 0-9, *, #, A-D. */
  readonly digit: string;
  readonly durationMs: number;
  readonly source: DigitSource;
  /** Epoch ms when it was reported. */
  readonly at: number;
}

export interface DtmfListenerEvents {
  /** A key went down (RFC 4733 only: INFO reports whole presses). */
  keydown: [{ readonly digit: string; readonly at: number }];
  /** A key press, once. */
  digit: [Digit];
}

/** One key press in RTP: its SSRC and start timestamp identify it (§2.5.1.1). */
interface ToneEvent {
  readonly ssrc: number;
  readonly timestamp: number;
  readonly digit: string;
  /** The longest duration seen, in timestamp units. */
  duration: number;
  reported: boolean;
}

/** RFC 4733 §3.2: events 0-15 are the DTMF keys. */
const DIGITS = '0123456789*#ABCD';
/** An event with no packet for this long is over even without its end packet. */
export const LOST_END_MS = 500;

export class DtmfListener extends EventEmitter<DtmfListenerEvents> {
  readonly #endpoint: MediaEndpoint;
  readonly #now: () => number;
  /** The event in progress. */
  #current: ToneEvent | undefined;
  #lostTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #onRtp = (packet: RtpPacketView, direction: 'in' | 'out') => {
    if (direction === 'in') this.#packet(packet);
  };

  constructor(endpoint: MediaEndpoint, now: () => number = Date.now) {
    super();
    this.#endpoint = endpoint;
    this.#now = now;
    endpoint.on('rtp', this.#onRtp);
    endpoint.once('close', () => this.close());
  }

  /** A digit that came another way (SIP INFO `application/dtmf-relay`): one stream for the flow. */
  inject(digit: string, durationMs: number, source: DigitSource = 'info'): boolean {
    const d = digit.toUpperCase();
    if (this.#closed || d.length !== 1 || !DIGITS.includes(d)) return false;
    this.#emitDigit({ digit: d, durationMs, source, at: this.#now() });
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#lostTimer) clearTimeout(this.#lostTimer);
    this.#endpoint.off('rtp', this.#onRtp);
  }

  #packet(packet: RtpPacketView): void {
    const te = this.#endpoint.telephoneEvent;
    if (!te || packet.payloadType !== te.payloadType || packet.payload.length < 4) return;
    const event = packet.payload[0]!;
    const end = (packet.payload[1]! & 0x80) !== 0;
    const duration = packet.payload.readUInt16BE(2);
    const digit = DIGITS[event];
    if (digit === undefined) return; // flash and other events are not keys
    const current = this.#current;
    const same =
      current !== undefined &&
      current.ssrc === packet.ssrc &&
      current.timestamp === packet.timestamp;
    if (!same) {
      // A new event: the previous one is over, end packet or not.
      if (current && !current.reported) this.#report(current, te.clockRate);
      this.#current = {
        ssrc: packet.ssrc,
        timestamp: packet.timestamp,
        digit,
        duration,
        reported: false,
      };
      this.emit('keydown', { digit, at: this.#now() });
    }
    const ongoing = this.#current!;
    if (ongoing.reported) return; // a repeated end packet
    ongoing.duration = Math.max(ongoing.duration, duration);
    if (end) {
      this.#report(ongoing, te.clockRate);
      return;
    }
    if (this.#lostTimer) clearTimeout(this.#lostTimer);
    this.#lostTimer = setTimeout(() => {
      if (!ongoing.reported) this.#report(ongoing, te.clockRate);
    }, LOST_END_MS).unref();
  }

  #report(event: ToneEvent, clockRate: number): void {
    event.reported = true;
    if (this.#lostTimer) clearTimeout(this.#lostTimer);
    this.#lostTimer = undefined;
    this.#emitDigit({
      digit: event.digit,
      durationMs: Math.round((event.duration * 1000) / clockRate),
      source: 'rfc4733',
      at: this.#now(),
    });
  }

  #emitDigit(digit: Digit): void {
    this.emit('digit', digit);
  }
}
