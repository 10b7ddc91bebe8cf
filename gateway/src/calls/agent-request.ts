/**
 * What an agent's leg is made of: where its INVITE goes (the connection the
 * phone registered over, else its contact), the media transport and SDP offer
 * (a plain RTP offer for a phone, a WebRTC one for the desk's softphone), and
 * the INVITE itself with the caller's identity (the web session's number),
 * the session headers, and the hop count carried on.
 */
import type { AgentContact } from '../agents/index.js';
import type { MediaRouter, MediaTransport, PlainRtpTransport } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import {
  SipRequest,
  formatNameAddr,
  generateCallId,
  generateTag,
  uriTarget,
  type SipStack,
  type Target,
} from '../sip/index.js';
import type { InboundLeg } from './inbound-leg.js';
import { LEG_ALLOW } from './leg.js';
import { OutboundLeg } from './outbound-leg.js';
import {
  agentOfferFromBrowser,
  offeredCodecs,
  plainOfferFrom,
  sdpText,
  type ChosenCodec,
} from './sdp-bridge.js';

/**
 * Where the agent's INVITE goes: through the Path its phone registered with
 * (RFC 3327: the edge proxy that holds the phone's connection), else over the
 * connection it registered on (TCP, NAT), else to its contact.
 */
export function agentTarget(stack: SipStack, contact: AgentContact): Target {
  const first = contact.path?.[0];
  if (first !== undefined) return uriTarget(routeUri(first));
  const flow = stack.transport.flow(contact.flowId);
  const uri = uriTarget(contact.uri);
  return flow && !flow.closed && flow.reliable ? { ...uri, protocol: flow.protocol, flow } : uri;
}

/** Whether the agent is a browser (the desk's softphone over WebSocket): it gets a WebRTC leg. */
export function agentIsBrowser(stack: SipStack, contact: AgentContact, target: Target): boolean {
  if (contact.transport === 'WS' || contact.transport === 'WSS') return true;
  if (target.protocol === 'WS' || target.protocol === 'WSS') return true;
  // Behind a proxy that did not say (no X-Parley-Source): the contact's own transport.
  if (contact.path?.length) {
    const own = uriTarget(contact.uri).protocol;
    return own === 'WS' || own === 'WSS';
  }
  return false;
}

function routeUri(route: string): string {
  return /<([^>]+)>/.exec(route)?.[1] ?? route.split(';')[0]?.trim() ?? route;
}

/**
 * The caller as the agent's phone shows it: the web session's number, and the
 * visitor's name from the token, else the tenant's name, else the number.
 */
export function callerIdentity(
  number: string,
  privateClaims: Readonly<Record<string, unknown>>,
  tenantName: string | undefined,
): { readonly number: string; readonly displayName: string } {
  const name = privateClaims.name;
  const display = typeof name === 'string' && name.trim() ? name.trim() : (tenantName ?? number);
  // Printable, bounded: it lands on a desk phone's screen.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  return { number, displayName: display.replace(/[\u0000-\u001f\u007f"\\]/g, ' ').slice(0, 64) };
}

export interface AgentLegRequest {
  readonly stack: SipStack;
  readonly router: MediaRouter;
  readonly logger: Logger;
  readonly domain: string;
  readonly agentId: string;
  readonly contact: AgentContact;
  /** The caller's leg: its offer shapes ours. */
  readonly caller: InboundLeg;
  /** The codec the gateway answered the caller with itself: the only one offered. */
  readonly only: ChosenCodec | undefined;
  /** How many agent legs this call tried before (the o= version of a browser caller's offers). */
  readonly attempt: number;
  /** The caller as the agent sees it: the web session's number and a display name. */
  readonly identity: { readonly number: string; readonly displayName: string };
  readonly call: { readonly id: string; readonly sessionId: string; readonly tenant: string };
  /** The To header's URI (default `sip:<agentId>@<domain>`); a flow's SIP URI target is its own. */
  readonly to?: string | undefined;
  /** The leg's name (default `agent:<agentId>`). */
  readonly name?: string | undefined;
}

/**
 * Makes an agent's leg, not started: its media transport on the call's router,
 * its offer, its INVITE. Throws when the contact cannot be routed or no media
 * transport can be had (the agent is unreachable).
 */
export async function agentLeg(request: AgentLegRequest): Promise<OutboundLeg> {
  const { stack, router, caller } = request;
  const target = agentTarget(stack, request.contact);
  const only = request.only;
  const name = request.name ?? `agent:${request.agentId}`;
  let sdp: string;
  let transport: MediaTransport;
  // An agent registered over WebSocket is a browser (the desk's softphone): a WebRTC leg.
  if (agentIsBrowser(stack, request.contact, target)) {
    const web = await router.createWebRtcTransport({ name });
    transport = web;
    try {
      sdp = await web.offer(offeredCodecs(caller.offer, only));
    } catch (error) {
      web.close();
      throw error;
    }
  } else {
    const plain = await router.createPlainTransport({ name });
    transport = plain;
    sdp = plainAgentOffer(caller, plain, only, request.attempt);
  }
  const leg = new OutboundLeg({
    stack,
    invite: agentInvite(request, target, sdp),
    target,
    name,
    logger: request.logger,
  });
  leg.useMedia(transport);
  return leg;
}

/**
 * A plain RTP offer to a phone from the caller's: a browser caller's codecs
 * that bridge without transcoding (the o= version says how many legs this
 * call offered before), a SIP caller's as they are; `only` that one codec.
 */
export function plainAgentOffer(
  caller: InboundLeg,
  plain: PlainRtpTransport,
  only: ChosenCodec | undefined,
  attempt: number,
): string {
  return sdpText(
    caller.webrtc
      ? agentOfferFromBrowser(caller.offer, plain, String(Date.now()), attempt, only)
      : plainOfferFrom(caller.offer, plain, only, String(Date.now())),
  );
}

function agentInvite(request: AgentLegRequest, target: Target, sdp: string): SipRequest {
  const { stack, domain, identity, call } = request;
  const from = formatNameAddr({
    displayName: identity.displayName,
    uri: `sip:${identity.number}@${domain}`,
  });
  return new SipRequest({
    method: 'INVITE',
    requestUri: request.contact.uri,
    headers: [
      // RFC 3327 §5.3: the registration's Path becomes the request's route set.
      ...(request.contact.path ?? []).map((route): [string, string] => ['Route', route]),
      ['From', `${from};tag=${generateTag()}`],
      ['To', formatNameAddr({ uri: request.to ?? `sip:${request.agentId}@${domain}` })],
      ['Call-ID', generateCallId()],
      ['CSeq', '1 INVITE'],
      // RFC 7332 §3: a B2BUA carries the hop count on (one less), so a loop
      // through it still ends in 483 instead of ringing forever.
      ['Max-Forwards', String(Math.max(0, (request.caller.invite.maxForwards ?? 70) - 1))],
      ['Contact', `<${stack.transport.contactUri(target.protocol, 'parley')}>`],
      ['P-Asserted-Identity', from],
      ['X-Parley-Session', call.sessionId],
      ['X-Parley-Call', call.id],
      ['X-Parley-Tenant', call.tenant],
      ['Allow', LEG_ALLOW],
      ['User-Agent', stack.userAgent],
      ['Content-Type', 'application/sdp'],
    ],
    body: sdp,
  });
}
