export { runInvitePipeline, type InviteContext, type InviteMiddleware } from './invite-pipeline.js';
export { refuse, reasonHeader, type Refusal } from './refusal.js';
export { sourceLimit } from './source-limit.js';
export { TokenBuckets } from './token-bucket.js';
export { maxForwards } from './middleware/max-forwards.js';
export { scrubHeaders, FORBIDDEN_HEADERS } from './middleware/scrub-headers.js';
export { destination, LISTING_PREFIX } from './middleware/destination.js';
export { impressionHeader } from './middleware/impression.js';
export { callToken } from './middleware/call-token.js';
export { tenantLimit } from './middleware/tenant-limit.js';
export { sdpOffer } from './middleware/sdp-offer.js';
export { agentPolicy, type AgentPolicy } from './agent-policy.js';
export {
  inviteHandler,
  visitorPipeline,
  type InviteHandlerDeps,
  type VisitorPipelineDeps,
} from './invite-handler.js';
export { overloadGuard, type OverloadGuard, type OverloadLimits } from './overload.js';
