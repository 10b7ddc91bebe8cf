import type { ServerTransaction, SipRequest, SipStack } from '../sip/index.js';
import { reasonHeader } from './refusal.js';
import { TokenBuckets } from './token-bucket.js';

/**
 * Per-source rate limit on every request (the stack's screen): a source over
 * its budget gets 503 with Retry-After (RFC 3261 §21.5.4), ACKs are dropped.
 */
export function sourceLimit(
  stack: SipStack,
  options: { perSecond: number; burst: number },
  onLimited: (source: string) => void,
): (request: SipRequest, tx: ServerTransaction) => boolean {
  const buckets = new TokenBuckets(options);
  return (request, tx) => {
    // In-dialog requests of calls already admitted are not throttled.
    if (request.to.tag !== undefined) return false;
    const source = tx.flow.remote.address;
    if (buckets.take(source)) return false;
    onLimited(source);
    stack.respond(tx, 503, { headers: [reasonHeader('rate_limited'), ['Retry-After', '5']] });
    return true;
  };
}
