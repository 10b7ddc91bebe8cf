/**
 * Calls: the B2BUA. A call owns its legs (the caller's inbound leg, the
 * outbound legs it makes), joins them on its media router, and keeps its record.
 */
export { Call } from './call.js';
export type { CallDeps, CallEvents, CallInit, CallerAnswer } from './call-types.js';
export { CallManager, type CallManagerDeps } from './call-manager.js';
export { CallRecordKeeper, storedDialog, type CallEnd } from './call-record.js';
export { InboundLeg, type AnswerMedia, type InboundLegState } from './inbound-leg.js';
export {
  OutboundLeg,
  type OutboundFailure,
  type OutboundFailureCause,
  type OutboundLegEvents,
  type OutboundLegState,
} from './outbound-leg.js';
export { Leg, type LegEnd, type LegEndCause, type LegEvents } from './leg.js';
export { InDialog, type CallLeg, type InDialogDeps } from './in-dialog.js';
export { RingStrategy, type RingRecord, type RingStrategyDeps } from './ring-strategy.js';
export { evaluateValue } from './customer-value.js';
export { agentTarget } from './agent-request.js';
export { trunkAgentLeg } from './trunk-agent-leg.js';
export { byeReason } from './leg.js';
export { pickCodec, readLegSdp, sdpText, type ChosenCodec, type LegSdp } from './sdp-bridge.js';
export { hangUpInterrupted } from './interrupted.js';
export { cancelInterrupted, storedInvite, type StoredInvite } from './interrupted-invites.js';
export { MessageHub, type MessageResult, type MessageSubscriber } from './message-hub.js';
export { Telephony, type TelephonyDeps } from './flow/telephony.js';
export { visitorFallbacks } from './flow/visitor-fallback.js';
export { ListingCalls, type ListingCallsDeps } from './flow/listing-calls.js';
export { CallFlow, type FlowCallDeps } from './flow/flow-call.js';
export { TargetDialer, type TargetDialerDeps } from './flow/dial-targets.js';
export {
  earlyAnswerPolicy,
  type EarlyAnswerPolicy,
  type EarlyAnswerSetting,
} from './early-answer.js';
