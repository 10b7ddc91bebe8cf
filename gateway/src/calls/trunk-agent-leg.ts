/**
 * An agent who is a telephone number (`agents[].phone`): their leg goes out
 * through the tenant's trunk (`Trunks.dial`: the trunk's outbound rules and
 * call cap, failover between carrier peers, digest challenges) instead of an
 * INVITE to a SIP contact. The caller ID is the web session's number (S6), in
 * From and P-Asserted-Identity as the trunk writes them; the offer is plain
 * RTP of the caller's codec, as a phone agent's.
 *
 * The leg is an `OutboundLeg` driven by the trunk call (`InviteDriver`), so
 * the ring strategy rings, cancels and bridges it as any agent's: the
 * carrier's 183 is early media for the caller, its busy/no-answer/failure the
 * leg's `failed`, and a CANCEL (another agent answered, the caller hung up,
 * the ring timeout) the trunk call's CANCEL. The trunk slot is given back when
 * the leg ends.
 */
import { ParleyError } from '@parley/shared/errors';
import type { AgentContact } from '../agents/index.js';
import type { MediaRouter, PlainRtpTransport } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import { SipRequest, type SipStack } from '../sip/index.js';
import type { DialFailureReason, TrunkDialFailure, Trunks } from '../trunks/index.js';
import type { AgentDialHost } from './agent-dial.js';
import { plainAgentOffer } from './agent-request.js';
import type { InboundLeg } from './inbound-leg.js';
import { OutboundLeg, type InviteDriver, type OutboundFailureCause } from './outbound-leg.js';
import type { ChosenCodec } from './sdp-bridge.js';

export interface TrunkAgentLegRequest {
  readonly trunks: Trunks;
  readonly stack: SipStack;
  readonly router: MediaRouter;
  readonly logger: Logger;
  readonly agentId: string;
  readonly phone: NonNullable<AgentContact['phone']>;
  /** The SDP offered to the number, for the leg's plain RTP transport (`callerShaped`, or a callback's). */
  readonly offer: (plain: PlainRtpTransport) => string;
  readonly maxForwards: number;
  /** The caller ID: the web session's number (or a trunk caller's own), E.164. */
  readonly callerNumber: string;
  readonly call: { readonly id: string; readonly tenant: string };
}

/**
 * The offer and Max-Forwards of a phone agent's leg for a caller's call: the
 * caller's offer shapes ours, `only` (the codec the gateway answered the
 * caller with itself) is the one offered, `attempt` (how many agent legs the
 * call tried before) the o= version of a browser caller's offers.
 */
export function callerShaped(
  caller: InboundLeg,
  only: ChosenCodec | undefined,
  attempt: number,
): Pick<TrunkAgentLegRequest, 'offer' | 'maxForwards'> {
  return {
    offer: (plain) => plainAgentOffer(caller, plain, only, attempt),
    // RFC 7332 §3: one hop less than the caller's INVITE, as an agent's leg.
    maxForwards: Math.max(0, (caller.invite.maxForwards ?? 70) - 1),
  };
}

/**
 * Makes the agent's leg through the trunk, not started (the trunk call is
 * placed; its INVITE leaves on the next turn of the event loop, once the leg
 * is started and listened to). Throws when no media transport can be had.
 */
export async function trunkAgentLeg(request: TrunkAgentLegRequest): Promise<OutboundLeg> {
  const { phone } = request;
  const name = `agent:${request.agentId}`;
  const plain = await request.router.createPlainTransport({ name });
  const sdp = request.offer(plain);
  const log = request.logger.child({ agent: request.agentId, trunk: phone.trunk ?? '-' });
  const out = request.trunks.dial({
    tenant: request.call.tenant,
    trunk: phone.trunk,
    to: phone.number,
    callerNumber: request.callerNumber,
    sdp,
    headers: [['X-Parley-Call', request.call.id]],
    maxForwards: request.maxForwards,
  });
  const driver: InviteDriver = {
    callId: out.callId,
    start(report) {
      out.on('progress', (progress) => report.progress(progress.response));
      void out.outcome.then((outcome) => {
        if (outcome.kind === 'answered') {
          const answered = outcome.call;
          report.answered(answered.invite, answered.dialog, answered.response);
          return;
        }
        const failure = outcome.failure;
        log.info(
          {
            reason: failure.reason,
            code: failure.code,
            status: failure.status,
            detail: failure.detail,
          },
          'phone agent not reached through the trunk',
        );
        report.failed(statusOf(failure), causeOf(failure.reason));
      });
    },
    // Another agent took the call: the number's CANCEL says so (no missed call on the phone).
    cancel: (reason) => out.cancel(reason === 'answered_elsewhere' ? reason : 'cancelled'),
  };
  const leg = OutboundLeg.driven({
    stack: request.stack,
    // The offer as the trunk sends it: its Request-URI, From and headers are the dialler's.
    invite: new SipRequest({
      method: 'INVITE',
      requestUri: `tel:${phone.number}`,
      headers: [
        ['Call-ID', out.callId],
        ['CSeq', '1 INVITE'],
        ['Content-Type', 'application/sdp'],
      ],
      body: sdp,
    }),
    name,
    logger: request.logger,
    driver,
  });
  leg.useMedia(plain);
  // Ended any way (failed, cancelled, hung up, never started): the trunk slot is free.
  leg.once('ended', () => out.close());
  return leg;
}

/**
 * A phone agent's leg for a call ringing a queue (`agent-dial.ts`): through the
 * agent's trunk, or the tenant's first outbound one; the attempt the ring
 * strategy records for it says `trunk:<id>`. Throws when the gateway has no
 * trunks or the call no media router (the agent is unreachable: next one).
 * `only`: the codec the caller was answered with already, offered alone.
 */
export async function phoneAgentLeg(
  host: AgentDialHost,
  agentId: string,
  phone: NonNullable<AgentContact['phone']>,
  tried: number,
  callerNumber: string,
  only: ChosenCodec | undefined,
): Promise<OutboundLeg> {
  const trunks = host.deps.trunks;
  if (!trunks) throw new ParleyError('trunk_not_allowed', 'the gateway has no trunks');
  const router = host.router();
  if (!router || router.closed) throw new ParleyError('internal', 'the call has no media router');
  const tenant = host.keeper.record.tenant;
  const leg = await trunkAgentLeg({
    trunks,
    stack: host.deps.stack,
    router,
    logger: host.log,
    agentId,
    phone,
    ...callerShaped(host.caller, only, tried),
    callerNumber,
    call: { id: host.callId, tenant },
  });
  host.keeper.attemptVia(leg.callId, `trunk:${phone.trunk ?? trunks.outboundTrunk(tenant) ?? '-'}`);
  return leg;
}

/** The status the attempt records: the carrier's, else what it stands for. */
function statusOf(failure: TrunkDialFailure): number {
  if (failure.status !== undefined) return failure.status;
  switch (failure.reason) {
    case 'no_answer':
    case 'cancelled':
      return 487;
    case 'not_allowed':
      return 403;
    case 'invalid_number':
      return 484;
    default:
      return 503;
  }
}

/** A trunk failure as the ring strategy's: busy and no answer as a phone's, anything else unreachable. */
function causeOf(reason: DialFailureReason): OutboundFailureCause {
  switch (reason) {
    case 'busy':
      return 'busy';
    case 'no_answer':
    case 'cancelled':
      return 'no_answer';
    default:
      return 'unreachable';
  }
}
