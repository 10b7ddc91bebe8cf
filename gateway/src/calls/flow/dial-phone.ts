/**
 * A flow's `dial` of a phone number: out through the tenant's trunk
 * (`Trunks.dial`: failover, digest challenges, caller ID in From and
 * P-Asserted-Identity) with a plain RTP offer of the caller's codec; the
 * carrier's 183 early media piped to the caller (SIP, phone or browser)
 * while it rings; the answered dialog adopted as an outbound leg of the call
 * (BYE, re-INVITE, INFO) and bridged. The trunk slot is given back when
 * that leg ends.
 */
import type { DialAttempt } from '../../flows/ports.js';
import type { Logger } from '../../observability/index.js';
import type { SipStack } from '../../sip/index.js';
import type { DialFailureReason, Trunks } from '../../trunks/index.js';
import type { Call } from '../call.js';
import { OutboundLeg } from '../outbound-leg.js';
import { aim, plainOfferFrom, readLegSdp, sdpText } from '../sdp-bridge.js';
import { connect } from './leg-bridge.js';

export interface PhoneDial {
  readonly number: string;
  readonly trunk: string | undefined;
  readonly callerId: string;
  readonly timeoutSeconds: number;
  readonly signal: AbortSignal;
  readonly stack: SipStack;
  readonly logger: Logger;
}

export async function dialPhone(call: Call, trunks: Trunks, dial: PhoneDial): Promise<DialAttempt> {
  const router = call.router;
  const caller = call.caller;
  if (!router || router.closed || !call.gatewayCodec)
    return { status: 'failed', reason: 'internal' };
  const name = `phone:${dial.number}`;
  const transport = await router.createPlainTransport({ name });
  const offer = plainOfferFrom(caller.offer, transport, call.gatewayCodec, String(Date.now()));
  const out = trunks.dial({
    tenant: call.tenant,
    trunk: dial.trunk,
    to: dial.number,
    callerNumber: dial.callerId,
    sdp: sdpText(offer),
    headers: [['X-Parley-Call', call.id]],
    maxForwards: Math.max(0, (caller.invite.maxForwards ?? 70) - 1),
    ringTimeoutMs: dial.timeoutSeconds * 1000,
  });
  const onAbort = (): void => out.cancel();
  dial.signal.addEventListener('abort', onAbort, { once: true });
  out.on('progress', ({ earlyMedia }) => {
    const early = earlyMedia ? readLegSdp(earlyMedia) : undefined;
    if (!early || call.ending) return;
    // The carrier's ringback or announcement reaches the caller before the answer: a SIP or
    // phone caller in the 183 the flow answered with, a browser (answered 200 when the dial
    // started) on its answered leg. Same codec either way: the offer is the caller's.
    aim(transport, early);
    router.pipe(caller.media!, transport);
  });
  const outcome = await out.outcome;
  dial.signal.removeEventListener('abort', onAbort);
  if (outcome.kind === 'failed') {
    transport.close();
    out.close();
    const failure = outcome.failure;
    return {
      status: statusOf(failure.reason),
      ...(failure.status !== undefined ? { sipStatus: failure.status } : {}),
      reason: failure.code ?? failure.reason,
    };
  }
  const answered = outcome.call;
  const answer = readLegSdp(answered.sdp);
  if (!answer || call.ending || dial.signal.aborted) {
    transport.close();
    out.close();
    const bye = answered.dialog.createRequest('BYE');
    dial.stack.transactions.request(bye, answered.dialog.target());
    return { status: call.ending ? 'canceled' : 'failed', reason: 'offer_required' };
  }
  const leg = OutboundLeg.adopt({
    stack: dial.stack,
    invite: answered.invite,
    target: answered.dialog.target(),
    name,
    logger: dial.logger,
    dialog: answered.dialog,
    answer,
  });
  leg.useMedia(transport);
  leg.once('ended', () => out.close());
  call.adoptLeg(leg);
  return connect(call, leg, {
    answeredBy: dial.number,
    signal: dial.signal,
    onBridged: (bridged) => call.targetAnswered(bridged),
  });
}

function statusOf(reason: DialFailureReason): 'busy' | 'no-answer' | 'failed' | 'canceled' {
  switch (reason) {
    case 'busy':
      return 'busy';
    case 'no_answer':
      return 'no-answer';
    case 'cancelled':
      return 'canceled';
    default:
      return 'failed';
  }
}
