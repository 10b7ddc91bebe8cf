/**
 * sip.js's Transport over an in-memory wire, and helpers to read and answer
 * what sip.js sends: lets unit tests run the real sip.js 0.21 (parser,
 * transactions, dialogs, digest authentication) without a WebSocket.
 */
import { EmitterImpl, TransportState, type Transport } from 'sip.js';

/** sip.js's Transport over an in-memory wire: what sip.js sends is kept, `receive()` feeds it. */
export class LoopTransport implements Transport {
  /** Every transport sip.js made, in order (tests clear it). */
  static readonly created: LoopTransport[] = [];
  readonly protocol = 'WSS';
  readonly stateChange = new EmitterImpl<TransportState>();
  state = TransportState.Disconnected;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  readonly sent: string[] = [];
  readonly #waiters: (() => void)[] = [];

  constructor() {
    LoopTransport.created.push(this);
  }

  async connect(): Promise<void> {
    this.#move(TransportState.Connected);
    this.onConnect?.();
  }

  async disconnect(): Promise<void> {
    this.#move(TransportState.Disconnected);
  }

  async dispose(): Promise<void> {
    await this.disconnect();
  }

  isConnected(): boolean {
    return this.state === TransportState.Connected;
  }

  async send(message: string): Promise<void> {
    if (!this.isConnected()) throw new Error('Not connected.');
    this.sent.push(message);
    this.#waiters.splice(0).forEach((wake) => wake());
  }

  receive(message: string): void {
    this.onMessage?.(message);
  }

  /** The WebSocket dropped. */
  drop(): void {
    this.#move(TransportState.Disconnected);
    this.onDisconnect?.(new Error('WebSocket closed unexpectedly'));
  }

  /** The first message sent whose start line starts with `start`. */
  next(start: string): Promise<string> {
    return this.nth(start, 0);
  }

  /** The `n`th (from 0) message sent whose start line starts with `start`. */
  async nth(start: string, n: number): Promise<string> {
    for (;;) {
      const found = this.sent.filter((m) => m.startsWith(start))[n];
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #move(state: TransportState): void {
    this.state = state;
    this.stateChange.emit(state);
  }
}

export const header = (message: string, name: string): string => {
  const line = message
    .split('\r\n')
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (line === undefined) throw new Error(`no ${name} in\n${message}`);
  return line.slice(line.indexOf(':') + 1).trim();
};

/** A response to `request` as the gateway would send it. */
export function reply(request: string, status: string, extra: string[] = [], body = ''): string {
  const lines = [
    `SIP/2.0 ${status}`,
    `Via: ${header(request, 'Via')}`,
    `From: ${header(request, 'From')}`,
    `To: ${header(request, 'To')}${/;tag=/.test(header(request, 'To')) ? '' : ';tag=gw1'}`,
    `Call-ID: ${header(request, 'Call-ID')}`,
    `CSeq: ${header(request, 'CSeq')}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
