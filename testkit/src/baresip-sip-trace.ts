/**
 * Reads the SIP trace baresip 1.0.0 prints on stdout when started with `-s`
 * (the config file has no switch for it). Each message looks like
 *
 *   ESC[36;1m#\n
 *   UDP 127.0.0.1:5070 -> 127.0.0.1:5080\n
 *   <the message exactly as sent or received, CRLF line ends>
 *   ESC[;m\n
 *
 * and the same colour is used both ways, so the direction is worked out from
 * the addresses (see `directionOf`). Log lines may sit right before the
 * opening escape on the same line.
 */
import { type SipMessage, parseSipMessage } from './sip-message.js';

const OPEN = '\x1b[36;1m#\n';
const CLOSE = '\x1b[;m';

export interface SipTraceParserOptions {
  /** The agent's own SIP address, `127.0.0.1:PORT`. */
  readonly localAddress: string;
  /** Messages kept (oldest dropped first). Default 2000. */
  readonly maxMessages?: number;
  readonly onMessage?: (message: SipMessage) => void;
}

export class BaresipSipTraceParser {
  readonly #local: string;
  readonly #max: number;
  readonly #onMessage: ((message: SipMessage) => void) | undefined;
  readonly #messages: SipMessage[] = [];
  #buffer = '';

  constructor(options: SipTraceParserOptions) {
    this.#local = options.localAddress;
    this.#max = options.maxMessages ?? 2000;
    this.#onMessage = options.onMessage;
  }

  get messages(): readonly SipMessage[] {
    return this.#messages;
  }

  /** Feeds a chunk of baresip's stdout. */
  push(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const open = this.#buffer.indexOf(OPEN);
      if (open < 0) {
        // Keep a tail in case the opening escape is split across chunks.
        this.#buffer = this.#buffer.slice(-OPEN.length);
        return;
      }
      const close = this.#buffer.indexOf(CLOSE, open + OPEN.length);
      if (close < 0) {
        this.#buffer = this.#buffer.slice(open);
        return;
      }
      this.#take(this.#buffer.slice(open + OPEN.length, close));
      this.#buffer = this.#buffer.slice(close + CLOSE.length);
    }
  }

  #take(block: string): void {
    const newline = block.indexOf('\n');
    if (newline < 0) return;
    const addressLine = /^(\S+)\s+(\S+)\s+->\s+(\S+)$/.exec(block.slice(0, newline).trim());
    if (!addressLine) return;
    const [, transport = '', source = '', destination = ''] = addressLine;
    const raw = block.slice(newline + 1);
    const provisional = parseSipMessage(raw, { direction: 'in', transport, source, destination });
    const direction = this.#directionOf(provisional);
    const message =
      direction === 'in'
        ? provisional
        : parseSipMessage(raw, { direction, transport, source, destination });
    this.#messages.push(message);
    if (this.#messages.length > this.#max)
      this.#messages.splice(0, this.#messages.length - this.#max);
    this.#onMessage?.(message);
  }

  /**
   * By address when one side is the listening socket; otherwise (TCP
   * connections baresip opened, with an ephemeral local port) by the top Via:
   * a request is ours when the top Via is ours, a response is ours when it
   * is not.
   */
  #directionOf(message: SipMessage): 'in' | 'out' {
    if (message.destination === this.#local) return 'in';
    if (message.source === this.#local) return 'out';
    const via = message.header('via') ?? '';
    const sentBy = /^SIP\/2\.0\/\S+\s+([^;\s]+)/i.exec(via)?.[1];
    const oursOnTop = sentBy === this.#local;
    if (message.method !== undefined) return oursOnTop ? 'out' : 'in';
    return oursOnTop ? 'in' : 'out';
  }
}
