/**
 * RFC 4733 DTMF toward the agent for a browser that sent it as SIP INFO: the
 * gateway makes the events itself. mediasoup has no way to insert packets into
 * a producer's stream, so the events come from a producer on the call's
 * DirectTransport, consumed on the agent's leg (its own SSRC, as RFC 4733
 * events may be sent in a stream of their own), while the browser's audio to
 * the agent is paused for the length of the event so the two never overlap.
 */
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import type { AudioCodec } from '../engine.js';
import { RtpRewriter, dtmfEvent, dtmfPayload } from '../rtp-rewriter.js';
import { legCapabilities, rtpCodecs } from './codecs.js';

export interface DtmfSenderOptions {
  readonly direct: () => Promise<types.DirectTransport>;
  /** The agent leg's worker transport, where the events are consumed. */
  readonly agent: types.Transport;
  /** The browser's audio toward the agent, paused while an event plays. */
  readonly audio: types.Consumer;
  /** The codec both legs use and telephone-event with the agent's number for it. */
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec;
  readonly now: () => number;
  readonly logger: Logger;
}

export class DtmfSender {
  readonly #options: DtmfSenderOptions;
  readonly #stream = new RtpRewriter();
  #producer: Promise<types.Producer> | undefined;
  /** Events play one after the other. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: DtmfSenderOptions) {
    this.#options = options;
  }

  send(digit: string, durationMs: number): Promise<boolean> {
    const event = dtmfEvent(digit);
    if (event === undefined) return Promise.resolve(false);
    const played = this.#queue.then(() => this.#play(event, durationMs));
    this.#queue = played.catch(() => undefined);
    return played;
  }

  async #play(event: number, durationMs: number): Promise<boolean> {
    const { telephoneEvent: te, audio, logger } = this.#options;
    if (audio.closed) return false;
    let producer: types.Producer;
    try {
      producer = await (this.#producer ??= this.#create());
    } catch (error) {
      logger.warn({ err: error }, 'DTMF path could not be set up');
      return false;
    }
    const stream = this.#stream;
    const start = stream.timestampAt(this.#options.now(), te.clockRate);
    const step = Math.round((te.clockRate * 50) / 1000);
    const total = Math.max(step, Math.round((te.clockRate * durationMs) / 1000));
    await audio.pause().catch(() => undefined);
    try {
      // RFC 4733 §2.5.1: one packet per 50 ms with the growing duration, then the end three times.
      for (let duration = step, first = true; duration < total; duration += step, first = false) {
        producer.send(
          stream.own(te.payloadType, first, start, dtmfPayload(event, false, duration)),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let i = 0; i < 3; i += 1) {
        producer.send(stream.own(te.payloadType, false, start, dtmfPayload(event, true, total)));
      }
    } finally {
      if (!audio.closed) await audio.resume().catch(() => undefined);
    }
    return true;
  }

  async #create(): Promise<types.Producer> {
    const { codec, telephoneEvent, agent } = this.#options;
    const direct = await this.#options.direct();
    const producer = await direct.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: rtpCodecs(codec, telephoneEvent),
        encodings: [{ ssrc: this.#stream.ssrc }],
      },
    });
    // mediasoup opens a producer's stream on its first packet of the media codec
    // (events alone are dropped): one, before any consumer exists, so it goes nowhere.
    producer.send(this.#stream.own(codec.payloadType, false, 0, Buffer.alloc(1)));
    await agent.consume({
      producerId: producer.id,
      rtpCapabilities: legCapabilities(codec, telephoneEvent),
    });
    return producer;
  }
}
