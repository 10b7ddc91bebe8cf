import { EventEmitter } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { addressList, inList, type BlockList } from './address-list.js';
import { randomUUID } from 'node:crypto';
import { SipStreamDecoder } from '../message/index.js';
import type { Endpoint, Flow } from './flow.js';
import type { TransportEvents } from './udp-transport.js';

/** Limits against slow and greedy clients (config `sip.tcp`). */
export interface TcpLimits {
  /**
   * A connection with no complete message (nor keep-alive) received or sent
   * this long is closed; a trickle of bytes of an unfinished message does not
   * count as activity.
   */
  readonly idleTimeoutMs?: number;
  /** A message must be complete (head and body) this long after its first byte. */
  readonly messageTimeoutMs?: number;
  /** Open connections at most, all sources together. */
  readonly maxConnections?: number;
  /** Accepted connections from one address at once. */
  readonly maxConnectionsPerSource?: number;
  /** Sources (addresses or CIDRs) the per-source limit does not apply to (a proxy in front). */
  readonly exempt?: readonly string[];
}

export interface TcpTransportOptions extends TcpLimits {
  readonly maxMessageBytes: number;
  readonly connectTimeoutMs?: number;
}

/**
 * SIP over TCP: a listener plus outgoing connections, one flow per connection.
 * Messages are framed by Content-Length (RFC 3261 §18.3); a connection that
 * sends garbage or an oversized message is closed. Against slow clients
 * (Slowloris over SIP): a per-source connection limit, a deadline for each
 * message once begun, and an idle timer only whole messages reset.
 */
export class TcpTransport extends EventEmitter<TransportEvents> {
  readonly protocol = 'TCP' as const;
  readonly #options: Required<Omit<TcpTransportOptions, 'exempt'>>;
  readonly #exempt: BlockList | undefined;
  /** Accepted connections per remote address. */
  readonly #perSource = new Map<string, number>();
  readonly #server: Server;
  readonly #flows = new Map<string, TcpFlow>();
  /** remote "addr:port" → flow, to reuse a connection for requests to that peer. */
  readonly #byRemote = new Map<string, TcpFlow>();
  #local: Endpoint = { address: '', port: 0 };
  #closed = false;

  constructor(options: TcpTransportOptions) {
    super();
    const { exempt, ...rest } = options;
    this.#options = {
      idleTimeoutMs: 15 * 60_000,
      messageTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      maxConnections: 10_000,
      maxConnectionsPerSource: 32,
      ...rest,
    };
    this.#exempt = addressList(exempt ?? []);
    this.#server = createServer((socket) => {
      if (this.#flows.size >= this.#options.maxConnections) {
        socket.destroy();
        this.emit('problem', { reason: 'too many TCP connections' });
        return;
      }
      const source = socket.remoteAddress ?? '';
      const open = this.#perSource.get(source) ?? 0;
      if (open >= this.#options.maxConnectionsPerSource && !inList(this.#exempt, source)) {
        socket.destroy();
        this.emit('problem', { reason: `too many TCP connections from ${source}` });
        return;
      }
      this.#perSource.set(source, open + 1);
      socket.once('close', () => {
        const left = (this.#perSource.get(source) ?? 1) - 1;
        if (left <= 0) this.#perSource.delete(source);
        else this.#perSource.set(source, left);
      });
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

  /** Open connections from `address` accepted by the listener (for tests and metrics). */
  connectionsFrom(address: string): number {
    return this.#perSource.get(address) ?? 0;
  }

  get connectionCount(): number {
    return this.#flows.size;
  }

  #adopt(socket: Socket): TcpFlow {
    const flow = new TcpFlow(socket, this.#options.maxMessageBytes);
    this.#flows.set(flow.id, flow);
    this.#byRemote.set(`${flow.remote.address}:${flow.remote.port}`, flow);
    socket.setNoDelay(true);
    // Node's socket timeout restarts on any byte; these two do not.
    const idle = setTimeout(() => {
      this.emit('problem', { flow, reason: 'TCP connection idle' });
      socket.destroy();
    }, this.#options.idleTimeoutMs);
    idle.unref();
    let deadline: NodeJS.Timeout | undefined;
    const stopDeadline = () => {
      if (deadline) clearTimeout(deadline);
      deadline = undefined;
    };
    flow.onSend = () => idle.refresh();
    socket.on('data', (chunk) => {
      let completed = false;
      for (const event of flow.decoder.push(chunk)) {
        // A lone CRLF (a pong) answers our ping, and we send none over TCP: a
        // peer's unsolicited ones are no sign of life.
        if (event.type === 'message' || event.type === 'ping') completed = true;
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
            completed = true; // a whole (bad) message was read: the next one gets its own deadline
            this.emit('invalid', { flow, error: event.error, message: event.message });
            if (event.fatal) flow.closeAfterWrites(event.message !== undefined);
            break;
        }
      }
      if (completed) {
        idle.refresh();
        stopDeadline();
      }
      if (flow.decoder.inMessage && deadline === undefined && !socket.destroyed) {
        deadline = setTimeout(() => {
          this.emit('problem', { flow, reason: 'SIP message not completed in time' });
          socket.destroy();
        }, this.#options.messageTimeoutMs);
        deadline.unref();
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      clearTimeout(idle);
      stopDeadline();
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
  /** Called on each send (the transport's idle timer counts our own traffic). */
  onSend: (() => void) | undefined;
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
    this.onSend?.();
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
