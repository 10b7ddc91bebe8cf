import {
  addressList,
  clientOf,
  inList,
  type Flow,
  type SipRequest,
  type SipStack,
  type StatelessScreen,
} from '../sip/index.js';
import { reasonHeader } from './refusal.js';
import { TokenBuckets } from './token-bucket.js';

export interface SourceLimitOptions {
  /** Requests per second per source address (token bucket refill). */
  readonly perSecond: number;
  /** Requests a source may send at once. */
  readonly burst: number;
  /**
   * Sources never limited (addresses or CIDRs): a proxy in front of the gateway
   * (Kamailio, OpenSIPS) whose every request comes from one address. A proxy
   * in `sip.edge.trusted` that names each request's client is better left
   * out of this list: its clients are then limited one by one.
   */
  readonly exempt?: readonly string[];
}

/**
 * User-Agent values of SIP scanners (sipvicious' "friendly-scanner", sipcli,
 * sundayddr…), dropped without an answer as Kamailio's and OpenSIPS' SBC
 * practice does: answering tells the scanner a SIP server is there.
 */
const SCANNERS =
  /friendly-scanner|sipvicious|sipcli|sip-scan|sipsak|sundayddr|iWar|VaxSIPUserAgent|pplsip|SIPScan/i;

/**
 * The SBC's per-request screen, run before any transaction exists:
 * - scanners are dropped;
 * - every request counts against its source's token bucket, in-dialog ones
 *   too (a To tag is the attacker's to write); a request over the budget is
 *   answered 503 + Retry-After statelessly (RFC 3261 §21.5.4, §8.2.7), once
 *   per request and never retransmitted, and past a second budget of such
 *   answers it is dropped, so a flood is not reflected at its (spoofable)
 *   source; ACKs are never answered.
 * Behind a trusted edge proxy the source is the client it names
 * (X-Parley-Source); the proxy's own requests (its probes) are not counted.
 */
export function sourceLimit(
  stack: SipStack,
  options: SourceLimitOptions,
  onLimited: (source: string) => void,
): StatelessScreen {
  const buckets = new TokenBuckets(options);
  // At most one stateless refusal per second per source beyond a small burst.
  const refusals = new TokenBuckets({ perSecond: 1, burst: 5 });
  const exempt = addressList(options.exempt ?? []);
  return (request: SipRequest, flow: Flow) => {
    const userAgent = request.headers.get('user-agent') ?? '';
    if (SCANNERS.test(userAgent)) {
      onLimited(clientOf(request, flow).address);
      return true;
    }
    if (inList(exempt, flow.remote.address)) return false;
    const client = clientOf(request, flow);
    if (!client.viaEdge && stack.transport.edge.trusts(flow.remote.address)) return false;
    const source = client.address;
    if (inList(exempt, source)) return false;
    if (buckets.take(source)) return false;
    onLimited(source);
    if (request.method !== 'ACK' && refusals.take(source)) {
      stack.respondStateless(request, flow, 503, {
        headers: [reasonHeader('rate_limited'), ['Retry-After', '5']],
      });
    }
    return true;
  };
}
