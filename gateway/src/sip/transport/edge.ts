/**
 * Who really sent a request when a SIP edge proxy (Kamailio, deploy/kamailio/)
 * stands in front of the gateway. Behind the proxy every request arrives over
 * the proxy's flow, so the flow no longer says who the client is: the proxy
 * adds it in two headers, believed only from the addresses in
 * `sip.edge.trusted`:
 *
 *   X-Parley-Source: WS 203.0.113.9:52110;conn=17   (the client's transport, address,
 *                                                    port, and the proxy's id of its connection)
 *   X-Parley-Origin: https://shop.example           (the Origin of its WebSocket handshake)
 *
 * From any other source both headers are removed unread, so a client cannot
 * claim another address (to escape its rate limit, to pass as a carrier) or
 * another page's origin (to use a token minted for it). They are removed from
 * trusted requests too once read: nothing downstream sees them.
 *
 * The connection id (`conn=`, Kamailio's `$conid`) lets a browser's call
 * behind the proxy outlive its WebSocket as a direct one does (`calls/rebind.ts`):
 * the gateway knows which of the proxy's client connections a request came on,
 * and the proxy tells it when one closes, in an OPTIONS of its own carrying
 *
 *   X-Parley-Closed: 17
 *
 * (`closedConnection`), which the gateway takes as that connection's close.
 *
 * The SBC, the trunks' classification, the call record and the visitor's leg
 * ask `clientOf`.
 */
import { isIP } from 'node:net';
import type { SipRequest } from '../message/index.js';
import { addressList, inList, type BlockList } from './address-list.js';
import type { Flow, SipProtocol } from './flow.js';

export const EDGE_SOURCE_HEADER = 'X-Parley-Source';
export const EDGE_ORIGIN_HEADER = 'X-Parley-Origin';
export const EDGE_CLOSED_HEADER = 'X-Parley-Closed';

/** The client of a request: its own transport and address, and its WebSocket's Origin. */
export interface RequestClient {
  /** The client's transport (WS for a browser, even when the proxy spoke UDP to us). */
  readonly protocol: SipProtocol;
  readonly address: string;
  readonly port: number;
  /** The Origin header of the client's WebSocket handshake, if it had one. */
  readonly origin: string | undefined;
  /** Told by a trusted edge proxy (the flow is the proxy's, not the client's). */
  readonly viaEdge: boolean;
  /**
   * The client's own connection: the flow's id when it connected to us, the
   * proxy's connection id (scoped to the proxy) when the proxy named it, else
   * the proxy's flow. Requests on one connection have the same id.
   */
  readonly connection: string;
}

const clients = new WeakMap<SipRequest, RequestClient>();

/** The request's client: what a trusted proxy said, else the flow it came over. */
export function clientOf(request: SipRequest, flow: Flow): RequestClient {
  return clients.get(request) ?? flowClient(flow);
}

function flowClient(flow: Flow): RequestClient {
  return {
    protocol: flow.protocol,
    address: flow.remote.address,
    port: flow.remote.port,
    origin: flow.origin,
    viaEdge: false,
    connection: flow.id,
  };
}

const PROTOCOLS: Readonly<Record<string, SipProtocol>> = {
  udp: 'UDP',
  tcp: 'TCP',
  // TLS is TCP to the gateway's code (flows, targets); the proxy holds the TLS.
  tls: 'TCP',
  ws: 'WS',
  wss: 'WSS',
};

/**
 * `WS 203.0.113.9:52110;conn=17` or `udp [2001:db8::1]:5060`; undefined when
 * malformed. `conn`: the proxy's id of the client's connection (stream transports).
 */
export function parseEdgeSource(
  value: string,
): { protocol: SipProtocol; address: string; port: number; conn?: string } | undefined {
  const match =
    /^\s*([A-Za-z]+)\s+(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})(?:;conn=(\d{1,19}))?\s*$/.exec(
      value,
    );
  if (!match) return undefined;
  const protocol = PROTOCOLS[(match[1] ?? '').toLowerCase()];
  const address = match[2] ?? match[3] ?? '';
  const port = Number(match[4]);
  if (!protocol || isIP(address) === 0 || port < 1 || port > 65535) return undefined;
  return { protocol, address, port, ...(match[5] === undefined ? {} : { conn: match[5] }) };
}

/**
 * A proxy's client connection, as one id across the gateway: the proxy's
 * address and its id for the connection. The address, not the proxy's flow:
 * over TCP or TLS the proxy's connection to the gateway may be replaced
 * mid-call (a new flow id), and the visitor's next request must still be
 * its own connection's.
 */
export function edgeConnectionId(proxy: Flow, conn: string): string {
  return `edge ${proxy.remote.address} conn ${conn}`;
}

/** An Origin as browsers send it (`scheme://host[:port]`), else undefined. */
function parseOrigin(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text || text.length > 512) return undefined;
  try {
    const url = new URL(text);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

export class EdgeTrust {
  readonly #trusted: BlockList | undefined;

  /** `trusted`: the proxies' addresses or CIDRs (config `sip.edge.trusted`). */
  constructor(trusted: readonly string[]) {
    this.#trusted = addressList(trusted);
  }

  /** Whether `address` is a trusted edge proxy. */
  trusts(address: string): boolean {
    return inList(this.#trusted, address);
  }

  /**
   * Reads and removes the edge headers of a request just received: from a
   * trusted proxy they name the request's client (see `clientOf`); from
   * anyone else they are dropped.
   */
  apply(request: SipRequest, flow: Flow): void {
    const source = request.headers.get(EDGE_SOURCE_HEADER);
    const origin = request.headers.get(EDGE_ORIGIN_HEADER);
    if (source === undefined && origin === undefined) return;
    request.headers.delete(EDGE_SOURCE_HEADER);
    request.headers.delete(EDGE_ORIGIN_HEADER);
    if (!this.trusts(flow.remote.address)) return;
    const client = source === undefined ? undefined : parseEdgeSource(source);
    if (!client) return; // the proxy's own request (a probe), or nothing we can read
    const { conn, ...where } = client;
    clients.set(request, {
      ...where,
      origin: parseOrigin(origin),
      viaEdge: true,
      connection: conn === undefined ? flow.id : edgeConnectionId(flow, conn),
    });
  }

  /**
   * The proxy's notice that one of its client connections closed (an OPTIONS
   * out of any dialog, from a trusted address, with `X-Parley-Closed: <conn>`
   * and no client named: the proxy's own request): that connection's id, to be
   * taken as closed. Undefined for any other request (the header is removed).
   * Call before `apply`.
   */
  closedConnection(request: SipRequest, flow: Flow): string | undefined {
    const conn = request.headers.get(EDGE_CLOSED_HEADER)?.trim();
    if (conn === undefined) return undefined;
    request.headers.delete(EDGE_CLOSED_HEADER);
    if (
      request.method !== 'OPTIONS' ||
      request.to.tag !== undefined ||
      request.headers.has(EDGE_SOURCE_HEADER) ||
      !/^\d{1,19}$/.test(conn) ||
      !this.trusts(flow.remote.address)
    )
      return undefined;
    return edgeConnectionId(flow, conn);
  }
}
