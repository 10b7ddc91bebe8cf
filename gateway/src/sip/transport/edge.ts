/**
 * Who really sent a request when a SIP edge proxy (Kamailio, deploy/kamailio/)
 * stands in front of the gateway. Behind the proxy every request arrives over
 * the proxy's flow, so the flow no longer says who the client is: the proxy
 * adds it in two headers, believed only from the addresses in
 * `sip.edge.trusted`:
 *
 *   X-Parley-Source: WS 203.0.113.9:52110     (the client's transport, address, port)
 *   X-Parley-Origin: https://shop.example     (the Origin of its WebSocket handshake)
 *
 * From any other source both headers are removed unread, so a client cannot
 * claim another address (to escape its rate limit, to pass as a carrier) or
 * another page's origin (to use a token minted for it). They are removed from
 * trusted requests too once read: nothing downstream sees them.
 *
 * The SBC, the trunks' classification and the call record ask `clientOf`.
 */
import { isIP } from 'node:net';
import type { SipRequest } from '../message/index.js';
import { addressList, inList, type BlockList } from './address-list.js';
import type { Flow, SipProtocol } from './flow.js';

export const EDGE_SOURCE_HEADER = 'X-Parley-Source';
export const EDGE_ORIGIN_HEADER = 'X-Parley-Origin';

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

/** `WS 203.0.113.9:52110` or `udp [2001:db8::1]:5060`; undefined when malformed. */
export function parseEdgeSource(
  value: string,
): { protocol: SipProtocol; address: string; port: number } | undefined {
  const match = /^\s*([A-Za-z]+)\s+(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})\s*$/.exec(value);
  if (!match) return undefined;
  const protocol = PROTOCOLS[(match[1] ?? '').toLowerCase()];
  const address = match[2] ?? match[3] ?? '';
  const port = Number(match[4]);
  if (!protocol || isIP(address) === 0 || port < 1 || port > 65535) return undefined;
  return { protocol, address, port };
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
    clients.set(request, { ...client, origin: parseOrigin(origin), viaEdge: true });
  }
}
