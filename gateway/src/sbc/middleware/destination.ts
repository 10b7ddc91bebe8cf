import { isSipUri } from '../../sip/index.js';
import type { InviteMiddleware } from '../invite-pipeline.js';

/** The Request-URI user names the queue (`sip:sales@gateway`); an unknown one is 404. */
export function destination(queues: ReadonlySet<string>): InviteMiddleware {
  return (ctx) => {
    const uri = ctx.invite.uri;
    const user = isSipUri(uri) ? uri.user : undefined;
    if (!user || !queues.has(user))
      return { code: 'unknown_queue', detail: user ?? ctx.invite.requestUri };
    ctx.queue = user;
    return undefined;
  };
}
