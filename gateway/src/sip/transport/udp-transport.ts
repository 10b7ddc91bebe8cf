import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
  SipParseError,
  parseMessage,
  readOversized,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Endpoint, Flow } from './flow.js';

export interface TransportEvents {
  /** One whole SIP message, parsed (not yet validated). */
  message: [SipRequest | SipResponse, Flow];
  /** Bytes that are not a SIP message, or too many; `message` is what could be read, to answer 400/413/513. */
  invalid: [{ flow: Flow; error: SipParseError; message?: SipRequest | SipResponse | undefined }];
  /** A stream flow closed (connection gone). */
  flowClosed: [Flow];
  /** Something to count and log; the transport carries on. */
  problem: [{ flow?: Flow; reason: string }];
}

const FLOW_CACHE = 10_000;

/** SIP over UDP: one socket; a flow per remote address (cached, bounded). */
export class UdpTransport extends EventEmitter<TransportEvents> {
  readonly protocol = 'UDP' as const;
  readonly #socket: Socket;
  readonly #maxBytes: number;
  readonly #flows = new Map<string, Flow>();
  #local: Endpoint = { address: '', port: 0 };
  #closed = false;
  /** What a UDP flow needs of its transport (flows outlive no transport: the socket is shared). */
  readonly #port: UdpPort = {
    local: () => this.#local,
    closed: () => this.#closed,
    send: (data, remote, flow) => {
      this.#socket.send(data, remote.port, remote.address, (error) => {
        if (error) this.emit('problem', { flow, reason: `send: ${error.message}` });
      });
    },
  };

  constructor(options: { host: string; maxMessageBytes: number }) {
    super();
    this.#maxBytes = options.maxMessageBytes;
    this.#socket = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4' });
    this.#socket.on('message', (data, rinfo) => {
      const flow = this.flowTo({ address: rinfo.address, port: rinfo.port });
      // RFC 5626 §3.5.1 keep-alive (CRLF): nothing to parse.
      if (data.length <= 4 && data.toString('latin1').trim() === '') return;
      parseInto(this, data, flow, this.#maxBytes);
    });
    this.#socket.on('error', (error) => this.emit('problem', { reason: error.message }));
  }

  get local(): Endpoint {
    return this.#local;
  }

  listen(host: string, port: number): Promise<Endpoint> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(port, host, () => {
        this.#socket.off('error', reject);
        // The kernel default (about 200 kB) overflows at a few hundred calls per
        // second; the kernel caps this at net.core.rmem_max.
        try {
          this.#socket.setRecvBufferSize(4 * 1024 * 1024);
          this.#socket.setSendBufferSize(1024 * 1024);
        } catch {
          // Not permitted: keep the defaults.
        }
        const address = this.#socket.address();
        this.#local = { address: address.address, port: address.port };
        resolve(this.#local);
      });
    });
  }

  /** The flow to a remote address (UDP needs no connection). */
  flowTo(remote: Endpoint): Flow {
    const id = `udp:${remote.address}:${remote.port}`;
    let flow = this.#flows.get(id);
    if (!flow) {
      if (this.#flows.size >= FLOW_CACHE) {
        const oldest = this.#flows.keys().next();
        if (!oldest.done) this.#flows.delete(oldest.value);
      }
      flow = new UdpFlow(id, remote, this.#port);
      this.#flows.set(id, flow);
    }
    return flow;
  }

  flow(id: string): Flow | undefined {
    return this.#flows.get(id);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

interface UdpPort {
  local(): Endpoint;
  closed(): boolean;
  send(data: Buffer, remote: Endpoint, flow: Flow): void;
}

class UdpFlow implements Flow {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;
  readonly origin = undefined;

  readonly #port: UdpPort;

  constructor(
    readonly id: string,
    readonly remote: Endpoint,
    port: UdpPort,
  ) {
    this.#port = port;
  }

  get local(): Endpoint {
    return this.#port.local();
  }

  get closed(): boolean {
    return this.#port.closed();
  }

  send(data: Buffer): boolean {
    if (this.#port.closed()) return false;
    this.#port.send(data, this.remote, this);
    return true;
  }

  close(): void {
    // Nothing to close: the socket is shared.
  }
}

/**
 * Parses one datagram or WebSocket message and emits `message` or `invalid`. One over
 * `maxBytes` is not parsed, but its head is read (a datagram is at most 64 kB) so a
 * request can be refused with 513 or 413 rather than dropped in silence (RFC 3261
 * §21.5.14, §21.4.11); the transport layer never answers a response (§18.1.2).
 */
export function parseInto(
  emitter: EventEmitter<TransportEvents>,
  data: Buffer,
  flow: Flow,
  maxBytes: number,
): void {
  if (data.length > maxBytes) {
    const { error, message: head } = readOversized(data, maxBytes);
    emitter.emit('invalid', { flow, error, message: head });
    return;
  }
  let message: SipRequest | SipResponse;
  try {
    message = parseMessage(data, { maxBytes });
  } catch (error) {
    const parseError = error instanceof SipParseError ? error : new SipParseError('unparseable');
    emitter.emit('invalid', { flow, error: parseError });
    return;
  }
  emitter.emit('message', message, flow);
}
