/**
 * A dialog (RFC 3261 §12): the peer-to-peer relationship one INVITE creates.
 * It builds in-dialog requests (§12.2.1.1) and knows where they go: to the
 * first Route when a proxy record-routed, else over the flow the dialog came on
 * while that is open (the only way to reach a browser on a WebSocket, and the
 * NAT-friendly way for phones), else to the remote target.
 */
import {
  SipRequest,
  formatNameAddr,
  formatUri,
  isSipUri,
  parseUri,
  type NameAddr,
  type SipResponse,
} from '../message/index.js';
import type { Flow, SipProtocol, Target } from '../transport/index.js';

export interface DialogInit {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From (UAC) / To (UAS) without tag: display name and URI. */
  readonly local: NameAddr;
  readonly remote: NameAddr;
  readonly localSeq: number;
  readonly remoteSeq: number | undefined;
  readonly remoteTarget: string;
  readonly routeSet: readonly string[];
  readonly flow: Flow | undefined;
  readonly localContact: string;
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly local: NameAddr;
  readonly remote: NameAddr;
  readonly routeSet: readonly string[];
  readonly localContact: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: string;
  flow: Flow | undefined;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.local = init.local;
    this.remote = init.remote;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.flow = init.flow;
    this.localContact = init.localContact;
  }

  /** The id the stack files in-dialog requests under: Call-ID, our tag, their tag. */
  get id(): string {
    return dialogId(this.callId, this.localTag, this.remoteTag);
  }

  /** §12.1.1: the UAS side, from the INVITE and the tag of our response. */
  static asUas(invite: SipRequest, localTag: string, flow: Flow, localContact: string): Dialog {
    const contact = invite.contact;
    return new Dialog({
      callId: invite.callId,
      localTag,
      remoteTag: invite.from.tag ?? '',
      local: stripTag(invite.to),
      remote: stripTag(invite.from),
      localSeq: Math.floor(Math.random() * 10_000) + 1,
      remoteSeq: invite.cseq.seq,
      remoteTarget: formatUri(contact ? contact.uri : invite.from.uri),
      routeSet: invite.headers.getAll('record-route'),
      flow,
      localContact,
    });
  }

  /** §12.1.2: the UAC side, from our INVITE and the response that created the dialog. */
  static asUac(
    invite: SipRequest,
    response: SipResponse,
    flow: Flow | undefined,
    localContact: string,
  ): Dialog {
    const contact = response.contact;
    return new Dialog({
      callId: invite.callId,
      localTag: invite.from.tag ?? '',
      remoteTag: response.to.tag ?? '',
      local: stripTag(invite.from),
      remote: stripTag(response.to),
      localSeq: invite.cseq.seq,
      remoteSeq: undefined,
      remoteTarget: contact ? formatUri(contact.uri) : invite.requestUri,
      routeSet: [...response.headers.getAll('record-route')].reverse(),
      flow,
      localContact,
    });
  }

  /** §12.2.1.1: a request within the dialog; CSeq increments except for ACK (and CANCEL). */
  createRequest(
    method: string,
    options: {
      body?: Buffer | string;
      contentType?: string;
      headers?: readonly (readonly [string, string])[];
      cseq?: number;
    } = {},
  ): SipRequest {
    const seq = options.cseq ?? (method === 'ACK' ? this.localSeq : ++this.localSeq);
    const headers: [string, string][] = [
      ...this.#routeHeaders(),
      ['From', formatNameAddr({ ...this.local, tag: this.localTag })],
      ['To', formatNameAddr({ ...this.remote, tag: this.remoteTag })],
      ['Call-ID', this.callId],
      ['CSeq', `${seq} ${method}`],
      ['Max-Forwards', '70'],
    ];
    if (method === 'INVITE' || method === 'UPDATE')
      headers.push(['Contact', `<${this.localContact}>`]);
    for (const [name, value] of options.headers ?? []) headers.push([name, value]);
    if (options.body !== undefined && options.contentType)
      headers.push(['Content-Type', options.contentType]);
    return new SipRequest({
      method,
      requestUri: this.#requestUri(),
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
  }

  /**
   * Checks an in-dialog request's CSeq (§12.2.2): lower than the last one is
   * out of order (answer 500). ACK and CANCEL are not counted.
   */
  acceptRemoteSeq(request: SipRequest): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    const seq = request.cseq.seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** §12.2.2: a target refresh (re-INVITE, UPDATE) with a Contact changes the remote target. */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = message.contact;
    if (contact) this.remoteTarget = formatUri(contact.uri);
  }

  /**
   * Where in-dialog requests go. With a route set, to its first entry (RFC 3261
   * §12.2.1.1 and §8.1.2: a proxy that record-routed stays on the path, and the
   * address it named need not be the one the INVITE came from); a WebSocket
   * flow stays the only way to a browser (it accepts no connections, RFC 7118). Without a route set,
   * over the flow the dialog came on while it is open (symmetric, NAT-friendly),
   * else to the remote target.
   */
  target(): Target {
    const flow = this.flow && !this.flow.closed ? this.flow : undefined;
    const firstRoute = this.routeSet[0];
    if (firstRoute !== undefined && !(flow && isWebSocket(flow))) {
      try {
        return uriTarget(nameAddrUri(firstRoute));
      } catch (error) {
        // A Route we cannot resolve (sips:, a bad URI): the flow is better than nothing.
        if (!flow) throw error;
      }
    }
    if (flow) {
      return {
        protocol: flow.protocol,
        address: flow.remote.address,
        port: flow.remote.port,
        flow,
      };
    }
    return uriTarget(this.remoteTarget);
  }

  #routeHeaders(): [string, string][] {
    // Loose routing (lr) only: strict routers are long gone (RFC 3261 §16.12.1.2).
    return this.routeSet.map((route): [string, string] => ['Route', route]);
  }

  #requestUri(): string {
    return this.remoteTarget;
  }
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}

function stripTag(addr: NameAddr): NameAddr {
  return {
    ...addr,
    tag: undefined,
    params: addr.params.filter(([name]) => name.toLowerCase() !== 'tag'),
  };
}

function isWebSocket(flow: Flow): boolean {
  return flow.protocol === 'WS' || flow.protocol === 'WSS';
}

function nameAddrUri(value: string): string {
  const match = /<([^>]+)>/.exec(value);
  return match?.[1] ?? value.split(';')[0]?.trim() ?? value;
}

/** RFC 3263 without DNS SRV/NAPTR: host, port (default 5060) and the transport parameter. */
export function uriTarget(uriText: string): Target {
  const uri = parseUri(uriText);
  if (!isSipUri(uri)) throw new Error(`cannot route to ${uriText}`);
  const transportParam = uri.params
    .find(([name]) => name.toLowerCase() === 'transport')?.[1]
    ?.toUpperCase();
  const protocol: SipProtocol =
    transportParam === 'TCP'
      ? 'TCP'
      : transportParam === 'WS'
        ? 'WS'
        : transportParam === 'WSS'
          ? 'WSS'
          : 'UDP';
  const maddr = uri.params.find(([name]) => name.toLowerCase() === 'maddr')?.[1];
  return {
    protocol,
    address: (maddr ?? uri.host).replace(/^\[|\]$/g, ''),
    port: uri.port ?? 5060,
  };
}
