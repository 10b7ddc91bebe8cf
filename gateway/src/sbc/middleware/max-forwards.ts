import type { InviteMiddleware } from '../invite-pipeline.js';

/** RFC 3261 §8.2.? / §16.3: a request that ran out of hops is refused with 483. */
export const maxForwards: InviteMiddleware = ({ invite }) =>
  invite.maxForwards === 0 ? { code: 'too_many_hops' } : undefined;
