import { EventEmitter } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SipStreamDecoder } from '../message/index.js';
import type { Endpoint, Flow } from './flow.js';
import type { TransportEvents } from './udp-transport.js';

export interface TcpTransportOptions {
  readonly maxMessageBytes: number;
  /** A connection silent this long is closed (phones re-register well within it). */
  readonly idleTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxConnections?: number;
}

/**
 * SIP over TCP: a listener plus outgoing connections, one flow per connection.
 * Messages are framed by Content-Length (RFC 3261 §18.3); a connection that
 * sends garbage or an oversized message is closed.
 */
export class TcpTransport extends EventEmitter<TransportEvents> {
  readonly protocol = 'TCP' as const;
  readonly #options: Required<TcpTransportOptions>;
  readonly #server: Server;
  readonly #flows = new Map<string, TcpFlow>();
  /** remote "addr:port" → flow, to reuse a connection for requests to that peer. */
  readonly #byRemote = new Map<string, TcpFlow>();
  #local: Endpoint = { address: '', port: 0 };
  #closed = false;

  constructor(options: TcpTransportOptions) {
    super();
    this.#options = {
      idleTimeoutMs: 15 * 60_000,
      connectTimeoutMs: 5_000,
      maxConnections: 10_000,
      ...options,
    };
    this.#server = createServer((socket) => {
      if (this.#flows.size >= this.#options.maxConnections) {
        socket.destroy();
        this.emit('problem', { reason: 'too many TCP connections' });
        return;
      }
      this.#adopt(socket);
    });
  }

  get local(): Endpoint {
    return this.#local;
  }

  listen(host: string, port: number): Promise<Endpoint> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        if (address === null || typeof address === 'string')
          throw new Error('TCP listener has no address');
        this.#local = { address: address.address, port: address.port };
        resolve(this.#local);
      });
    });
  }

  flow(id: string): Flow | undefined {
    return this.#flows.get(id);
  }

  /** An open connection to `remote`, or a new one. */
  async connect(remote: Endpoint): Promise<Flow> {
    const existing = this.#byRemote.get(`${remote.address}:${remote.port}`);
    if (existing && !existing.closed) return existing;
    if (this.#closed) throw new Error('transport closed');
    const socket = createConnection({ host: remote.address, port: remote.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TCP connect to ${remote.address}:${remote.port} timed out`));
      }, this.#options.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return this.#adopt(socket);
  }

  #adopt(socket: Socket): TcpFlow {
    const flow = new TcpFlow(socket, this.#options.maxMessageBytes);
    this.#flows.set(flow.id, flow);
    this.#byRemote.set(`${flow.remote.address}:${flow.remote.port}`, flow);
    socket.setNoDelay(true);
    socket.setTimeout(this.#options.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk) => {
      for (const event of flow.decoder.push(chunk)) {
        switch (event.type) {
          case 'message':
            this.emit('message', event.message, flow);
            break;
          case 'ping':
            flow.send(Buffer.from('\r\n')); // RFC 5626 §4.4.1 pong
            break;
          case 'pong':
            break;
          case 'error':
            this.emit('invalid', { flow, error: event.error, message: event.message });
            if (event.fatal) flow.closeAfterWrites(event.message !== undefined);
            break;
        }
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      this.#flows.delete(flow.id);
      const key = `${flow.remote.address}:${flow.remote.port}`;
      if (this.#byRemote.get(key) === flow) this.#byRemote.delete(key);
      this.emit('flowClosed', flow);
    });
    return flow;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const flow of this.#flows.values()) flow.close();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

class TcpFlow implements Flow {
  readonly id = `tcp:${randomUUID()}`;
  readonly protocol = 'TCP' as const;
  readonly reliable = true;
  readonly origin = undefined;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly decoder: SipStreamDecoder;
  readonly #socket: Socket;

  constructor(socket: Socket, maxBytes: number) {
    this.#socket = socket;
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.decoder = new SipStreamDecoder({ maxBytes });
  }

  get closed(): boolean {
    return this.#socket.destroyed;
  }

  send(data: Buffer): boolean {
    if (this.#socket.destroyed) return false;
    this.#socket.write(data);
    return true;
  }

  close(): void {
    this.#socket.destroy();
  }

  /**
   * After a fatal framing error: flush what was written (the 413 the transport layer
   * answered synchronously) and close, or just close when nothing was answered.
   */
  closeAfterWrites(flush: boolean): void {
    if (!flush) {
      this.#socket.destroy();
      return;
    }
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }
}
