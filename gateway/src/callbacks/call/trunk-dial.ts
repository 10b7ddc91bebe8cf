/**
 * A callback's leg through a trunk (the customer, or an advertiser's phone
 * number): a plain RTP transport on the callback's router, the offer, the
 * trunk's dialer (failover, digest), and once answered an `OutboundLeg`
 * adopting the dialog (BYE, re-INVITE, INFO from then on are the leg's). The
 * trunk slot is given back when the leg ends.
 */
import { OutboundLeg, byeReason, readLegSdp, type ChosenCodec } from '../../calls/index.js';
import type { AudioCodec, MediaRouter } from '../../media/index.js';
import type { Logger } from '../../observability/index.js';
import { uriTarget, type SipStack } from '../../sip/index.js';
import type { OutboundTrunkCall, TrunkDialFailure, Trunks } from '../../trunks/index.js';
import { plainOffer, trunkCodecs } from './offer.js';

export interface TrunkDialRequest {
  readonly tenant: string;
  readonly trunk?: string | undefined;
  readonly to: string;
  readonly callerNumber: string;
  readonly callerName?: string | undefined;
  /** What to offer; default the trunk's codecs and telephone-event. */
  readonly codecs?: readonly AudioCodec[] | undefined;
  readonly ringTimeoutMs: number;
  /** The leg's name in logs and records (`customer`, `advertiser`). */
  readonly name: string;
  readonly headers: readonly (readonly [string, string])[];
  /** The first 180/183. */
  readonly onRinging: () => void;
  /** The trunk call, as soon as it is made: its INVITE is kept while it rings (CANCELled after a crash). */
  readonly onDial?: ((call: OutboundTrunkCall) => void) | undefined;
  /** Cancels the dialling (the callback ended meanwhile). */
  readonly signal: AbortSignal;
}

export type TrunkDialResult =
  | {
      readonly kind: 'answered';
      readonly leg: OutboundLeg;
      readonly codec: ChosenCodec;
      readonly callId: string;
    }
  | { readonly kind: 'failed'; readonly failure: TrunkDialFailure; readonly callId: string | null };

export interface TrunkDialDeps {
  readonly stack: SipStack;
  readonly trunks: Trunks;
  readonly logger: Logger;
}

const failed = (reason: TrunkDialFailure['reason'], detail: string): TrunkDialFailure => ({
  reason,
  code: reason === 'cancelled' ? undefined : 'trunk_unavailable',
  status: undefined,
  detail,
  peer: undefined,
});

/** Dials through a trunk; resolves once answered (a leg in state `answered`) or failed. */
export async function dialThroughTrunk(
  deps: TrunkDialDeps,
  router: MediaRouter,
  request: TrunkDialRequest,
): Promise<TrunkDialResult> {
  const trunkId = request.trunk ?? deps.trunks.outboundTrunk(request.tenant);
  const trunk = trunkId === undefined ? undefined : deps.trunks.trunk(trunkId);
  if (!trunk)
    return {
      kind: 'failed',
      failure: {
        ...failed('not_allowed', `no trunk for tenant ${request.tenant}`),
        code: 'trunk_not_allowed',
      },
      callId: null,
    };
  if (request.signal.aborted)
    return { kind: 'failed', failure: failed('cancelled', 'ended'), callId: null };
  const transport = await router.createPlainTransport({ name: request.name });
  const codecs = request.codecs ?? trunkCodecs(trunk.codecs);
  const out = deps.trunks.dial({
    tenant: request.tenant,
    trunk: trunk.id,
    to: request.to,
    callerNumber: request.callerNumber,
    callerName: request.callerName,
    sdp: plainOffer(transport, codecs, String(Date.now())),
    headers: request.headers,
    ringTimeoutMs: request.ringTimeoutMs,
  });
  request.onDial?.(out);
  const onAbort = () => out.cancel('cancelled');
  request.signal.addEventListener('abort', onAbort, { once: true });
  let rang = false;
  out.on('progress', () => {
    if (rang) return;
    rang = true;
    request.onRinging();
  });
  const outcome = await out.outcome;
  request.signal.removeEventListener('abort', onAbort);
  if (outcome.kind === 'failed') {
    transport.close();
    out.close();
    return { kind: 'failed', failure: outcome.failure, callId: out.callId };
  }
  const answered = outcome.call;
  const answer = readLegSdp(answered.sdp);
  const refused = (detail: string): TrunkDialResult => {
    const reason = request.signal.aborted ? 'cancelled' : 'rejected';
    return {
      kind: 'failed',
      failure: {
        reason,
        code: reason === 'cancelled' ? undefined : 'offer_required',
        status: 488,
        detail,
        peer: answered.peer,
      },
      callId: out.callId,
    };
  };
  if (!answer) {
    // A 2xx to an offer must carry the answer (RFC 3264 §2): hang up at once.
    const bye = answered.dialog.createRequest('BYE', { headers: [byeReason('offer_required')] });
    deps.stack.transactions.request(bye, answered.dialog.target());
    transport.close();
    out.close();
    return refused('a 2xx without SDP');
  }
  const leg = OutboundLeg.adopt({
    stack: deps.stack,
    invite: answered.invite,
    target: uriTarget(answered.invite.requestUri),
    name: request.name,
    logger: deps.logger,
    dialog: answered.dialog,
    answer,
  });
  leg.useMedia(transport);
  leg.once('ended', () => out.close());
  const codec = await leg.acceptAnswer();
  if (!codec || request.signal.aborted) {
    leg.close(request.signal.aborted ? 'cancelled' : 'offer_required');
    return refused('no codec we offered in the answer');
  }
  return { kind: 'answered', leg, codec, callId: out.callId };
}
