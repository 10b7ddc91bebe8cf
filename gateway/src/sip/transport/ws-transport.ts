import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Endpoint, Flow } from './flow.js';
import { parseInto, type TransportEvents } from './udp-transport.js';

/** The largest WebSocket message read at all (the largest UDP payload is 65,507 octets). */
const WS_READ_LIMIT = 65_535;

export interface WsTransportOptions {
  readonly path: string;
  readonly maxMessageBytes: number;
  /** Ping interval; a socket that misses a pong is closed (dead browsers, dropped networks). */
  readonly pingIntervalMs?: number;
  readonly secure?: boolean;
}

/**
 * SIP over WebSocket (RFC 7118) on the gateway's HTTP server: subprotocol `sip`
 * required, one SIP message per WebSocket message. The handshake's Origin is
 * kept on the flow: the SBC checks it against the call token's origin.
 */
export class WsTransport extends EventEmitter<TransportEvents> {
  readonly protocol: 'WS' | 'WSS';
  readonly #options: Required<WsTransportOptions>;
  readonly #wss: WebSocketServer;
  readonly #flows = new Map<string, WsFlow>();
  #server: Server | undefined;
  #ping: NodeJS.Timeout | undefined;
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.#upgrade(req, socket, head);

  constructor(options: WsTransportOptions) {
    super();
    this.#options = { pingIntervalMs: 20_000, secure: false, ...options };
    this.protocol = this.#options.secure ? 'WSS' : 'WS';
    this.#wss = new WebSocketServer({
      noServer: true,
      // Up to a datagram's worth is read, so a message over maxMessageBytes can be
      // refused with 413/513 like one over UDP; beyond that, ws closes with 1009.
      maxPayload: Math.max(options.maxMessageBytes, WS_READ_LIMIT),
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
  }

  /** Serves SIP on `path` of this HTTP server. */
  attach(server: Server): void {
    this.#server = server;
    server.on('upgrade', this.#onUpgrade);
    this.#ping = setInterval(() => {
      for (const flow of this.#flows.values()) flow.ping();
    }, this.#options.pingIntervalMs);
    this.#ping.unref();
  }

  get local(): Endpoint {
    const address = this.#server?.address();
    return address && typeof address === 'object'
      ? { address: address.address, port: address.port }
      : { address: '', port: 0 };
  }

  flow(id: string): Flow | undefined {
    return this.#flows.get(id);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== this.#options.path) return; // another upgrade handler's path
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes('sip')) {
      // RFC 7118 §4.1: the client MUST offer "sip".
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nWebSocket subprotocol "sip" required\n',
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
      const flow = new WsFlow(
        ws,
        this.protocol,
        this.local,
        {
          address: req.socket.remoteAddress ?? '',
          port: req.socket.remotePort ?? 0,
        },
        origin,
      );
      this.#flows.set(flow.id, flow);
      ws.on('message', (data, isBinary) => {
        const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        // RFC 5626-style keep-alive over WebSocket: a bare CRLF message.
        if (!isBinary && buffer.length <= 4 && buffer.toString('latin1').trim() === '') {
          flow.send(Buffer.from('\r\n'));
          return;
        }
        parseInto(this, buffer, flow, this.#options.maxMessageBytes);
      });
      ws.on('pong', () => flow.alive());
      ws.on('error', (error) => this.emit('problem', { flow, reason: error.message }));
      ws.on('close', (code) => {
        flow.closedByPeer = code === 1000 || code === 1001;
        this.#flows.delete(flow.id);
        this.emit('flowClosed', flow);
      });
    });
  }

  close(): Promise<void> {
    if (this.#ping) clearInterval(this.#ping);
    this.#server?.off('upgrade', this.#onUpgrade);
    // Shutdown does not wait for close handshakes of peers that may be gone.
    for (const flow of this.#flows.values()) flow.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}

class WsFlow implements Flow {
  readonly id = `ws:${randomUUID()}`;
  readonly reliable = true;
  readonly #ws: WebSocket;
  #awaitingPong = false;
  closedByPeer = false;

  constructor(
    ws: WebSocket,
    readonly protocol: 'WS' | 'WSS',
    readonly local: Endpoint,
    readonly remote: Endpoint,
    readonly origin: string | undefined,
  ) {
    this.#ws = ws;
  }

  get closed(): boolean {
    return this.#ws.readyState !== this.#ws.OPEN;
  }

  send(data: Buffer): boolean {
    if (this.closed) return false;
    // Text frames: what browsers' SIP stacks (sip.js, JsSIP) expect.
    this.#ws.send(data.toString('utf8'));
    return true;
  }

  ping(): void {
    if (this.closed) return;
    if (this.#awaitingPong) {
      this.#ws.terminate();
      return;
    }
    this.#awaitingPong = true;
    this.#ws.ping();
  }

  alive(): void {
    this.#awaitingPong = false;
  }

  close(): void {
    this.#ws.close(1001, 'gateway closing');
  }

  terminate(): void {
    this.#ws.terminate();
  }
}
