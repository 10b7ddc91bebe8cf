/**
 * An agent's leg for a callback: the agent's phone (plain RTP) or the desk's
 * softphone (WebRTC, registered over the SIP WebSocket) is offered the one
 * codec the customer answered with, so the relay joins them as they are. The
 * INVITE shows the customer's number and says it is an accepted callback
 * (`X-Parley-Callback`); `X-Parley-Call` carries the callback's id, which the
 * desk's `ring` event carries too (the softphone joins the two by it).
 */
import type { AgentContact } from '../../agents/index.js';
import { ParleyError } from '@parley/shared/errors';
import { OutboundLeg, agentTarget, trunkAgentLeg, type ChosenCodec } from '../../calls/index.js';
import { LEG_ALLOW } from '../../calls/leg.js';
import type { MediaRouter, MediaTransport } from '../../media/index.js';
import type { Logger } from '../../observability/index.js';
import {
  SipRequest,
  formatNameAddr,
  generateCallId,
  generateTag,
  type SipStack,
} from '../../sip/index.js';
import type { Trunks } from '../../trunks/index.js';
import { plainOffer } from './offer.js';

export interface AgentLegRequest {
  readonly stack: SipStack;
  readonly router: MediaRouter;
  readonly logger: Logger;
  readonly domain: string;
  readonly agentId: string;
  readonly contact: AgentContact;
  /** The customer's codec: the only one offered. */
  readonly codec: ChosenCodec;
  /** The customer as the agent's phone shows them. */
  readonly caller: { readonly number: string; readonly displayName: string };
  readonly callback: { readonly id: string; readonly tenant: string; readonly sessionId: string };
  /** For an agent who is a telephone number (`contact.phone`). */
  readonly trunks?: Trunks | undefined;
}

/**
 * Makes (does not start) an agent's leg; throws when no media transport can be
 * had, or for an agent who is a telephone number when the gateway has no trunks.
 */
export async function callbackAgentLeg(request: AgentLegRequest): Promise<OutboundLeg> {
  const { stack, router, codec } = request;
  const codecs = [codec.codec, ...(codec.telephoneEvent ? [codec.telephoneEvent] : [])];
  const phone = request.contact.phone;
  if (phone) {
    // An agent who is a telephone number: through its trunk, as a queue call's (calls/trunk-agent-leg.ts).
    if (!request.trunks) throw new ParleyError('trunk_not_allowed', 'the gateway has no trunks');
    return trunkAgentLeg({
      trunks: request.trunks,
      stack,
      router,
      logger: request.logger,
      agentId: request.agentId,
      phone,
      offer: (plain) => plainOffer(plain, codecs, String(Date.now())),
      maxForwards: 70,
      callerNumber: request.caller.number,
      call: { id: request.callback.id, tenant: request.callback.tenant },
    });
  }
  const target = agentTarget(stack, request.contact);
  const name = `agent:${request.agentId}`;
  let transport: MediaTransport;
  let sdp: string;
  if (target.protocol === 'WS' || target.protocol === 'WSS') {
    const web = await router.createWebRtcTransport({ name });
    transport = web;
    try {
      sdp = await web.offer(codecs);
    } catch (error) {
      web.close();
      throw error;
    }
  } else {
    const plain = await router.createPlainTransport({ name });
    transport = plain;
    sdp = plainOffer(plain, codecs, String(Date.now()));
  }
  const from = formatNameAddr({
    displayName: request.caller.displayName,
    uri: `sip:${request.caller.number}@${request.domain}`,
  });
  const invite = new SipRequest({
    method: 'INVITE',
    requestUri: request.contact.uri,
    headers: [
      ['From', `${from};tag=${generateTag()}`],
      ['To', formatNameAddr({ uri: `sip:${request.agentId}@${request.domain}` })],
      ['Call-ID', generateCallId()],
      ['CSeq', '1 INVITE'],
      ['Max-Forwards', '70'],
      ['Contact', `<${stack.transport.contactUri(target.protocol, 'parley')}>`],
      ['P-Asserted-Identity', from],
      ['X-Parley-Session', request.callback.sessionId],
      ['X-Parley-Call', request.callback.id],
      ['X-Parley-Callback', request.callback.id],
      ['X-Parley-Tenant', request.callback.tenant],
      ['Allow', LEG_ALLOW],
      ['User-Agent', stack.userAgent],
      ['Content-Type', 'application/sdp'],
    ],
    body: sdp,
  });
  const leg = new OutboundLeg({ stack, invite, target, name, logger: request.logger });
  leg.useMedia(transport);
  return leg;
}
