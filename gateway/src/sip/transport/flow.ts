/**
 * A flow is where a SIP message came from and where a reply goes: a UDP
 * 5-tuple, a TCP connection or a WebSocket (RFC 5626's term). Dialogs and
 * registrations remember their flow: a browser behind a WebSocket, or a phone
 * behind NAT, can only be reached over the flow it opened.
 */
export type SipProtocol = 'UDP' | 'TCP' | 'WS' | 'WSS';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface Flow {
  readonly id: string;
  readonly protocol: SipProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Reliable (stream) transports need no retransmissions (RFC 3261 §17). */
  readonly reliable: boolean;
  /** The WebSocket handshake's Origin header (the page the browser is on). */
  readonly origin: string | undefined;
  readonly closed: boolean;
  /**
   * Closed on purpose by the peer (a WebSocket close frame 1000 or 1001: the
   * page went away or hung up), not lost (1006: no close frame, the network).
   */
  readonly closedByPeer?: boolean;
  /** Sends one whole message; false when the flow is closed or the send failed at once. */
  send(data: Buffer): boolean;
  close(): void;
}

export const isReliable = (protocol: SipProtocol) => protocol !== 'UDP';

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.address.includes(':')
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}
