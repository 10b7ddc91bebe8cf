import type { InviteMiddleware } from '../invite-pipeline.js';

/**
 * RFC 3261 §16.3 (step 3): an element must not forward a request whose
 * Max-Forwards is 0, and answers it with 483 Too Many Hops. The gateway passes
 * every visitor INVITE on to an agent, so it is on the path like a proxy (and
 * RFC 7332 asks B2BUAs to take part in loop detection); a request without
 * Max-Forwards passes the check.
 */
export const maxForwards: InviteMiddleware = ({ invite }) =>
  invite.maxForwards === 0 ? { code: 'too_many_hops' } : undefined;
