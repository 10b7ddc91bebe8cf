/**
 * Trunks to the telephone network (docs/trunks.md): carrier peers with OPTIONS
 * keep-alive, inbound classification by source address and DID, outbound
 * dialling with failover and digest authentication, E.164 normalisation.
 */
export {
  Trunks,
  noFlowAttached,
  type DialOptions,
  type TrunkCallHook,
  type TrunksEvents,
  type TrunksOptions,
} from './trunks.js';
export {
  Trunk,
  type TrunkCodec,
  type TrunkDirection,
  type TrunkPeerInfo,
  type TrunkSlot,
} from './trunk.js';
export {
  classifyInvite,
  type InboundCaller,
  type InboundTrunkCall,
  type TrunkClassification,
  type TrunkRefusalCode,
} from './classify.js';
export { OutboundTrunkCall } from './dialer.js';
export { trunkSources } from './source-acl.js';
export { inboundNumberLookup } from './did-table.js';
export { outboundRefusal, outboundRules, type OutboundRefusal } from './outbound-rules.js';
export {
  type AnsweredTrunkCall,
  type DialFailureReason,
  type DialOutcome,
  type DialRequest,
  type OutboundTrunkCallEvents,
  type TrunkDialFailure,
  type TrunkProgress,
} from './dial-types.js';
export { failureForStatus } from './dial-failure.js';
export { formatForTrunk, numberInUri, toE164, type NumberFormat } from './e164.js';
