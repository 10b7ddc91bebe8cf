import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import {
  SipParseError,
  createResponse,
  formatVia,
  serialize,
  validateMessage,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Logger } from '../../observability/index.js';
import { EdgeTrust } from './edge.js';
import { formatEndpoint, type Endpoint, type Flow, type SipProtocol } from './flow.js';
import { TcpTransport, type TcpLimits } from './tcp-transport.js';
import { UdpTransport } from './udp-transport.js';
import { WsTransport } from './ws-transport.js';

export interface ListenerConfig {
  readonly protocol: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
}

export interface TransportLayerOptions {
  readonly listen: readonly ListenerConfig[];
  /** SIP over WebSocket on this HTTP server and path. */
  readonly ws?: { readonly server: Server; readonly path: string; readonly secure?: boolean };
  /** Host for Via and Contact when the listener's own address is not reachable by peers. */
  readonly advertisedHost?: string | undefined;
  readonly maxMessageBytes: number;
  /** SIP over TCP limits against slow and greedy clients (config `sip.tcp`). */
  readonly tcp?: TcpLimits | undefined;
  /** SIP edge proxies whose X-Parley-Source/-Origin headers are believed (config `sip.edge.trusted`). */
  readonly edge?: readonly string[] | undefined;
  readonly logger: Logger;
}

/** Where a request goes: an open flow, or an address to send to (or connect to). */
export interface Target {
  readonly protocol: SipProtocol;
  readonly address: string;
  readonly port: number;
  readonly flow?: Flow | undefined;
}

export interface TransportLayerEvents {
  request: [SipRequest, Flow];
  response: [SipResponse, Flow];
  flowClosed: [Flow];
  /**
   * A trusted edge proxy says one of its client connections closed (`edge.ts`,
   * `X-Parley-Closed`): `id` is that connection's, as `clientOf(…).connection` names it.
   */
  edgeConnectionClosed: [{ readonly id: string }];
  /** A message that could not be parsed or was refused at the transport (for metrics). */
  dropped: [{ reason: string; flow?: Flow | undefined }];
}

/**
 * RFC 3261 §18: receives bytes from every transport, parses them, stamps the
 * received/rport on a request's top Via (§18.2.1, RFC 3581), and sends
 * requests to targets and responses back along the Via (§18.2.2).
 */
export class TransportLayer extends EventEmitter<TransportLayerEvents> {
  readonly #options: TransportLayerOptions;
  readonly #log: Logger;
  readonly #edge: EdgeTrust;
  #udp: UdpTransport | undefined;
  #tcp: TcpTransport | undefined;
  #ws: WsTransport | undefined;

  constructor(options: TransportLayerOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ module: 'sip-transport' });
    this.#edge = new EdgeTrust(options.edge ?? []);
  }

  /** The SIP edge proxies in front (config `sip.edge.trusted`). */
  get edge(): EdgeTrust {
    return this.#edge;
  }

  async start(): Promise<void> {
    for (const listener of this.#options.listen) {
      if (listener.protocol === 'udp') {
        if (this.#udp) throw new Error('only one UDP listener is supported');
        this.#udp = this.#wire(
          new UdpTransport({ host: listener.host, maxMessageBytes: this.#options.maxMessageBytes }),
        );
        const local = await this.#udp.listen(listener.host, listener.port);
        this.#log.info({ protocol: 'UDP', local: formatEndpoint(local) }, 'SIP listening');
      } else {
        if (this.#tcp) throw new Error('only one TCP listener is supported');
        this.#tcp = this.#wire(
          new TcpTransport({
            ...this.#options.tcp,
            maxMessageBytes: this.#options.maxMessageBytes,
          }),
        );
        const local = await this.#tcp.listen(listener.host, listener.port);
        this.#log.info({ protocol: 'TCP', local: formatEndpoint(local) }, 'SIP listening');
      }
    }
    if (this.#options.ws) {
      this.#ws = this.#wire(
        new WsTransport({
          path: this.#options.ws.path,
          maxMessageBytes: this.#options.maxMessageBytes,
          secure: this.#options.ws.secure ?? false,
        }),
      );
      this.#ws.attach(this.#options.ws.server);
    }
  }

  /** The SIP over TCP transport, when listening (its connection counts are for tests and metrics). */
  get tcp(): TcpTransport | undefined {
    return this.#tcp;
  }

  /** The local address of each listener (after start; port 0 becomes the real port). */
  local(protocol: SipProtocol): Endpoint | undefined {
    const transport = this.#transport(protocol);
    return transport?.local;
  }

  /** Host and port to put in our Via (sent-by) and Contact for this protocol. */
  sentBy(protocol: SipProtocol): { host: string; port: number } {
    const local = this.local(protocol);
    if (!local) throw new Error(`no ${protocol} transport`);
    const host = this.#options.advertisedHost ?? local.address;
    return {
      host: host.includes(':') && !host.startsWith('[') ? `[${host}]` : host,
      port: local.port,
    };
  }

  /** Our Contact URI on this protocol. */
  contactUri(protocol: SipProtocol, user: string): string {
    const { host, port } = this.sentBy(protocol);
    const transport = protocol === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`;
    return `sip:${user}@${host}:${port}${transport}`;
  }

  /** Looks a flow up by id (a UDP flow is rebuilt from its id). */
  flow(id: string | undefined): Flow | undefined {
    if (id === undefined) return undefined;
    if (id.startsWith('udp:') && this.#udp) {
      const found = this.#udp.flow(id);
      if (found) return found;
      const match = /^udp:(.+):(\d+)$/.exec(id);
      return match?.[1] && match[2]
        ? this.#udp.flowTo({ address: match[1], port: Number(match[2]) })
        : undefined;
    }
    return this.#tcp?.flow(id) ?? this.#ws?.flow(id);
  }

  /** Sends a request; resolves with the flow it left on. Rejects when the target cannot be reached. */
  async sendRequest(request: SipRequest, target: Target): Promise<Flow> {
    const data = serialize(request);
    const flow = await this.#flowFor(target);
    if (!flow.send(data)) throw new Error(`flow ${flow.id} is closed`);
    return flow;
  }

  /** Sends a response per RFC 3261 §18.2.2 (and RFC 3581 for rport). */
  async sendResponse(response: SipResponse, receivedOn: Flow): Promise<boolean> {
    const data = serialize(response);
    if (!receivedOn.closed && (receivedOn.reliable || receivedOn.protocol === 'UDP')) {
      // Reliable: the same connection. UDP: the received/rport the request got
      // on arrival equals the flow's remote address, so the flow is the answer.
      if (receivedOn.reliable || this.#viaPointsAt(response, receivedOn))
        return receivedOn.send(data);
    }
    const via = response.via;
    const address = via.received ?? via.host.replace(/^\[|\]$/g, '');
    const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
    const protocol = via.transport.toUpperCase() as SipProtocol;
    if (protocol === 'WS' || protocol === 'WSS') return false; // the WebSocket is gone
    try {
      const flow = await this.#flowFor({
        protocol: protocol === 'TCP' ? 'TCP' : 'UDP',
        address,
        port,
      });
      return flow.send(data);
    } catch (error) {
      this.#log.debug({ err: error, to: `${address}:${port}` }, 'response could not be sent');
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#udp?.close(), this.#tcp?.close(), this.#ws?.close()]);
  }

  #viaPointsAt(response: SipResponse, flow: Flow): boolean {
    const via = response.via;
    const address = via.received ?? via.host;
    const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
    return address === flow.remote.address && port === flow.remote.port;
  }

  async #flowFor(target: Target): Promise<Flow> {
    if (target.flow && !target.flow.closed) return target.flow;
    const address = isIP(target.address) ? target.address : (await lookup(target.address)).address;
    switch (target.protocol) {
      case 'UDP':
        if (!this.#udp) throw new Error('no UDP transport');
        return this.#udp.flowTo({ address, port: target.port });
      case 'TCP':
        if (!this.#tcp) throw new Error('no TCP transport');
        return this.#tcp.connect({ address, port: target.port });
      default:
        throw new Error(`cannot open a ${target.protocol} flow; the peer must connect`);
    }
  }

  #transport(protocol: SipProtocol) {
    return protocol === 'UDP' ? this.#udp : protocol === 'TCP' ? this.#tcp : this.#ws;
  }

  #wire<T extends UdpTransport | TcpTransport | WsTransport>(transport: T): T {
    transport.on('message', (message, flow) => this.#receive(message, flow));
    transport.on('invalid', ({ flow, error, message }) => this.#refuse(flow, error, message));
    transport.on('flowClosed', (flow) => this.emit('flowClosed', flow));
    transport.on('problem', ({ flow, reason }) => this.emit('dropped', { reason, flow }));
    return transport;
  }

  #receive(message: SipRequest | SipResponse, flow: Flow): void {
    try {
      validateMessage(message);
    } catch (error) {
      this.#refuse(
        flow,
        error instanceof SipParseError ? error : new SipParseError(String(error)),
        message,
      );
      return;
    }
    if (message.type === 'request') {
      try {
        stampVia(message, flow);
      } catch (error) {
        // A Via we parsed but cannot write back (a branch with characters no token allows).
        this.emit('dropped', { reason: `Via: ${(error as Error).message}`, flow });
        return;
      }
      // A trusted proxy's notice that a client's connection closed: answered here, not a request.
      const closed = this.#edge.closedConnection(message, flow);
      if (closed !== undefined) {
        this.#log.debug({ flow: flow.id, connection: closed }, 'edge: client connection closed');
        void this.sendResponse(createResponse(message, 200, undefined, { toTag: true }), flow);
        this.emit('edgeConnectionClosed', { id: closed });
        return;
      }
      // Who really sent it, when a trusted proxy says so; the headers go either way.
      this.#edge.apply(message, flow);
      this.emit('request', message, flow);
    } else {
      this.emit('response', message, flow);
    }
  }

  /**
   * A message we cannot take: answer a request with the parse error's status
   * (400, 413, 416, 505, 513) and the reason in a Warning when its Via, From, To,
   * Call-ID and CSeq can be read; otherwise drop it (RFC 3261 §16.3 / §18.3).
   */
  #refuse(flow: Flow, error: SipParseError, message: SipRequest | SipResponse | undefined): void {
    this.emit('dropped', { reason: error.message, flow });
    this.#log.debug({ flow: flow.id, reason: error.message }, 'refused a malformed message');
    if (message?.type !== 'request' || message.method === 'ACK') return;
    try {
      if (message.headers.has('via')) stampVia(message, flow);
      const response = createResponse(message, error.statusHint, undefined, {
        toTag: true as const,
      });
      response.headers.set(
        'Warning',
        `399 parley "${error.message.replace(/["\\\r\n]/g, ' ').slice(0, 120)}"`,
      );
      void this.sendResponse(response, flow);
    } catch {
      // Not even enough to answer with.
    }
  }
}

/** RFC 3261 §18.2.1 and RFC 3581 §4: record where a request really came from. */
function stampVia(request: SipRequest, flow: Flow): void {
  const via = request.via;
  const host = via.host.replace(/^\[|\]$/g, '');
  const needsReceived =
    host !== flow.remote.address || flow.protocol === 'WS' || flow.protocol === 'WSS';
  const needsRport = via.rport === true;
  if (!needsReceived && !needsRport) return;
  request.headers.shift('via');
  request.headers.prepend(
    'Via',
    formatVia({
      ...via,
      received: flow.remote.address,
      rport: needsRport ? flow.remote.port : via.rport,
    }),
  );
}
