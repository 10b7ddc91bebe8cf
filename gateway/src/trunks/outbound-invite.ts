/**
 * The INVITE toward a carrier: Request-URI and To name the number dialled
 * (`sip:+14155550100@peer`, or as the trunk's `outbound.numberFormat` and
 * `outbound.domain` say); From and P-Asserted-Identity carry the caller ID, the
 * web session's number (S6). With `privacy`, From is anonymous (RFC 3323
 * §4.1.1.3) and `Privacy: id` asks the network to keep the asserted identity
 * from the called party (RFC 3325 §9.3); the carrier still sees who calls, as
 * regulators require.
 */
import { SipRequest, formatNameAddr, type SipStack } from '../sip/index.js';
import type { DialRequest } from './dial-types.js';
import { formatForTrunk, type NumberFormat } from './e164.js';
import type { Trunk, TrunkPeerInfo } from './trunk.js';

export interface TrunkInviteInit {
  readonly peer: TrunkPeerInfo;
  /** E.164 of the number called. */
  readonly to: string;
  /** E.164 of the caller ID. */
  readonly callerNumber: string;
  readonly callerName?: string | undefined;
  readonly privacy: boolean;
  readonly format: NumberFormat;
  /** Host of the Request-URI and To; default the peer's host:port. */
  readonly domain?: string | undefined;
  /** Host of From and P-Asserted-Identity. */
  readonly fromDomain: string;
  readonly callId: string;
  readonly fromTag: string;
  readonly cseq: number;
  readonly contact: string;
  readonly maxForwards: number;
  readonly userAgent: string;
  readonly sdp: Buffer | string;
  readonly headers?: readonly (readonly [string, string])[] | undefined;
}

export function buildTrunkInvite(init: TrunkInviteInit): SipRequest {
  const peerHost = init.peer.host.includes(':') ? `[${init.peer.host}]` : init.peer.host;
  const transport = init.peer.transport === 'tcp' && !init.domain ? ';transport=tcp' : '';
  const domain = init.domain ?? `${peerHost}:${init.peer.port}`;
  const called = formatForTrunk(init.to, init.format);
  const caller = formatForTrunk(init.callerNumber, init.format);
  const requestUri = `sip:${called}@${domain}${transport}`;
  const identity = formatNameAddr({
    displayName: init.callerName,
    uri: `sip:${caller}@${init.fromDomain}`,
  });
  const from = init.privacy
    ? formatNameAddr({
        displayName: 'Anonymous',
        uri: 'sip:anonymous@anonymous.invalid',
        tag: init.fromTag,
      })
    : `${identity};tag=${init.fromTag}`;
  const headers: [string, string][] = [
    ['From', from],
    ['To', formatNameAddr({ uri: `sip:${called}@${domain}` })],
    ['Call-ID', init.callId],
    ['CSeq', `${init.cseq} INVITE`],
    ['Max-Forwards', String(init.maxForwards)],
    ['Contact', `<${init.contact}>`],
    ['P-Asserted-Identity', identity],
    ...(init.privacy ? ([['Privacy', 'id']] as [string, string][]) : []),
    ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE'],
    ['User-Agent', init.userAgent],
    ...(init.headers ?? []).map(([n, v]): [string, string] => [n, v]),
    ['Content-Type', 'application/sdp'],
  ];
  return new SipRequest({ method: 'INVITE', requestUri, headers, body: init.sdp });
}

/**
 * The INVITE of a dial request to one of the trunk's peers: the trunk's number
 * format and domains, our sent-by and Contact for the peer's transport. Throws
 * when no listener serves that transport (the peer cannot be reached from here).
 */
export function inviteToPeer(init: {
  readonly stack: SipStack;
  readonly trunk: Trunk;
  readonly request: DialRequest;
  readonly peer: TrunkPeerInfo;
  readonly callId: string;
  readonly fromTag: string;
  readonly cseq: number;
}): SipRequest {
  const { stack, request, peer } = init;
  const outbound = init.trunk.settings.outbound;
  const protocol = peer.transport === 'tcp' ? 'TCP' : 'UDP';
  return buildTrunkInvite({
    peer,
    to: request.to,
    callerNumber: request.callerNumber,
    callerName: request.callerName,
    privacy: request.privacy ?? false,
    format: outbound.numberFormat,
    domain: outbound.domain,
    fromDomain: outbound.fromDomain ?? stack.transport.sentBy(protocol).host,
    callId: init.callId,
    fromTag: init.fromTag,
    cseq: init.cseq,
    contact: stack.transport.contactUri(protocol, 'parley'),
    maxForwards: request.maxForwards ?? 70,
    userAgent: stack.userAgent,
    sdp: request.sdp,
    headers: request.headers,
  });
}

/**
 * The same INVITE sent again (after a challenge): CSeq + 1, same Call-ID,
 * From tag and body (RFC 3261 §22.2), without the Via the transaction layer
 * put on the first one (the new transaction gets a new branch).
 */
export function nextInvite(previous: SipRequest): SipRequest {
  const headers: [string, string][] = [];
  for (const [name, value] of previous.headers) {
    const key = name.toLowerCase();
    if (key === 'via' || key === 'v') continue;
    headers.push([name, key === 'cseq' ? `${previous.cseq.seq + 1} INVITE` : value]);
  }
  return new SipRequest({
    method: 'INVITE',
    requestUri: previous.requestUri,
    headers,
    body: previous.body,
  });
}
