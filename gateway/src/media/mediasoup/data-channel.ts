/**
 * The browser's data channel through mediasoup's SCTP: the widget opens one
 * channel (`parley`, not negotiated) on the first stream its DTLS role allows
 * (RFC 8832 §6: the DTLS client takes even ids, so 0 with our answer's
 * `a=setup:passive`). mediasoup does not run the DCEP handshake (it drops PPID
 * 50), so the stream is known by that rule rather than from the OPEN message,
 * and the ACK (RFC 8832 §5.2) is sent here, as the browser's peer would.
 *
 * Messages go browser → DataProducer (that stream) → DataConsumer on the call's
 * DirectTransport → Node, and Node → DataProducer on the DirectTransport →
 * DataConsumer (the same stream, ordered and reliable) → browser, so the
 * gateway reads and sends them in order as with werift.
 */
import type { Logger } from 'pino';
import type { types } from 'mediasoup';

/** RFC 8831 §8 PPIDs and RFC 8832 §5.2's DATA_CHANNEL_ACK. */
const PPID_DCEP = 50;
const PPID_STRING = 51;
const PPID_STRING_EMPTY = 56;
const DCEP_ACK = Buffer.from([0x02]);

export interface DataChannelEvents {
  readonly message: (text: string) => void;
  readonly open: () => void;
}

export class DataChannel {
  readonly #transport: types.WebRtcTransport;
  readonly #events: DataChannelEvents;
  readonly #log: Logger;
  #toBrowser: types.DataProducer | undefined;
  #ready = false;
  #open = false;
  #closed = false;

  constructor(transport: types.WebRtcTransport, events: DataChannelEvents, log: Logger) {
    this.#transport = transport;
    this.#events = events;
    this.#log = log;
  }

  /** Whether a message sent now reaches the browser. */
  get open(): boolean {
    return this.#open && !this.#closed;
  }

  /** Wires the stream both ways through `direct` (the call's DirectTransport). */
  async start(direct: types.DirectTransport, streamId: number): Promise<void> {
    const transport = this.#transport;
    // The two directions are independent: set up in parallel (fewer worker round trips).
    const read = async () => {
      const fromBrowser = await transport.produceData({
        sctpStreamParameters: { streamId, ordered: true },
        label: 'parley',
      });
      const reader = await direct.consumeData({ dataProducerId: fromBrowser.id });
      reader.on('message', (message, ppid) => {
        if (ppid === PPID_STRING) this.#events.message(message.toString('utf8'));
        else if (ppid === PPID_STRING_EMPTY) this.#events.message('');
        // Binary frames are not part of the protocol.
      });
    };
    const write = async () => {
      const producer = await direct.produceData({ label: 'parley' });
      const consumer = await transport.consumeData({ dataProducerId: producer.id, ordered: true });
      return { producer, consumer };
    };
    const [, { producer: toBrowser, consumer: writer }] = await Promise.all([read(), write()]);
    if (writer.sctpStreamParameters?.streamId !== streamId) {
      // mediasoup hands out the lowest free stream id: the first consumer gets 0.
      this.#log.warn(
        { wanted: streamId, got: writer.sctpStreamParameters?.streamId },
        'data channel stream id mismatch: messages to the browser will not arrive',
      );
    }
    this.#toBrowser = toBrowser;
    this.#ready = true;
    if (transport.sctpState === 'connected') this.#opened();
    transport.on('sctpstatechange', (state) => {
      if (state === 'connected') this.#opened();
      else if (state === 'closed' || state === 'failed') this.#open = false;
    });
  }

  send(text: string): boolean {
    if (!this.open || !this.#toBrowser) return false;
    this.#toBrowser.send(text, text.length > 0 ? PPID_STRING : PPID_STRING_EMPTY);
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#open = false;
  }

  #opened(): void {
    if (!this.#ready || this.#open || this.#closed) return;
    this.#open = true;
    // The browser's OPEN never reaches us; its ACK lets a peer that waits for
    // one (libdatachannel) open the channel. Chrome opens without it and
    // ignores an ACK it did not wait for.
    this.#toBrowser?.send(DCEP_ACK, PPID_DCEP);
    this.#events.open();
  }
}
