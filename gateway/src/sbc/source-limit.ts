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
  /**
   * The budget of each established dialog's own requests (BYE, re-INVITE,
   * INFO, MESSAGE, UPDATE, their ACKs), counted per dialog instead of per
   * source: visitors behind one NAT (one public address) do not share one
   * budget for their calls in progress. Unset: counted per source like the rest.
   */
  readonly perDialog?: Budget | undefined;
  /**
   * The budget of all the dialogs of one source together (with `perDialog`):
   * a client with many answered calls gets no more than this for their
   * requests (re-INVITEs are the costly kind), however many calls it holds.
   * Generous: the many visitors behind one NAT share it.
   */
  readonly perSourceDialogs?: Budget | undefined;
}

interface Budget {
  readonly perSecond: number;
  readonly burst: number;
}

/** Dialog buckets kept at most (a dialog is an answered call leg: far fewer exist). */
const MAX_DIALOG_BUCKETS = 20_000;

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
 * - a request of an established dialog (one the gateway answered and filed:
 *   its Call-ID and both tags match) counts against that dialog's bucket
 *   (`perDialog`), so a busy neighbour behind the same NAT cannot starve a
 *   call's BYE or ICE-restart re-INVITE; and, once the dialog's bucket let
 *   it pass, against its source's bucket for all its dialogs together
 *   (`perSourceDialogs`), so holding many calls multiplies no one's budget
 *   past that; a CANCEL of a pending INVITE from the same client counts
 *   likewise, on that call's bucket (a ringing visitor's CANCEL is not
 *   refused because a neighbour spent the address's budget);
 * - every other request counts against its source's token bucket: new
 *   INVITEs, REGISTER, OPTIONS, and in-dialog requests for a dialog we do not
 *   know (a To tag is the sender's to write: inventing Call-IDs or tags buys
 *   no budget of its own).
 * A request over its budget is answered 503 + Retry-After statelessly
 * (RFC 3261 §21.5.4, §8.2.7), once per request and never retransmitted, and
 * past a second budget of such answers it is dropped, so a flood is not
 * reflected at its (spoofable) source; ACKs are never answered.
 * Behind a trusted edge proxy the source is the client it names
 * (X-Parley-Source); the proxy's own requests (its probes) are not counted,
 * and its clients' refused requests are always answered (scanners 403
 * `blocked`), never dropped: the proxy relayed them in a transaction of its
 * own, and one left unanswered would look like this gateway dying.
 */
export function sourceLimit(
  stack: SipStack,
  options: SourceLimitOptions,
  onLimited: (source: string) => void,
): StatelessScreen {
  const buckets = new TokenBuckets(options);
  const dialogs = options.perDialog
    ? new TokenBuckets({ ...options.perDialog, maxKeys: MAX_DIALOG_BUCKETS })
    : undefined;
  const sourceDialogs = options.perSourceDialogs
    ? new TokenBuckets(options.perSourceDialogs)
    : undefined;
  /** A dialog's request: its dialog's budget first (one flooding call spends only its own), then its source's. */
  const takeDialog = (dialog: string, source: string): boolean =>
    dialogs !== undefined && dialogs.take(dialog) && (sourceDialogs?.take(source) ?? true);
  // At most one stateless refusal per second per source (or dialog) beyond a small burst.
  const refusals = new TokenBuckets({ perSecond: 1, burst: 5 });
  const exempt = addressList(options.exempt ?? []);
  return (request: SipRequest, flow: Flow, dialog: string | undefined) => {
    const userAgent = request.headers.get('user-agent') ?? '';
    if (SCANNERS.test(userAgent)) {
      const client = clientOf(request, flow);
      onLimited(client.address);
      // Behind a proxy, silence would be its branch timing out: this gateway taken for dead.
      if (client.viaEdge)
        stack.respondStateless(request, flow, 403, { headers: [reasonHeader('blocked')] });
      return true;
    }
    if (inList(exempt, flow.remote.address)) return false;
    const client = clientOf(request, flow);
    if (!client.viaEdge && stack.transport.edge.trusts(flow.remote.address)) return false;
    const source = client.address;
    if (inList(exempt, source)) return false;
    const perDialog = dialogs !== undefined && dialog !== undefined;
    if (perDialog ? takeDialog(dialog, source) : buckets.take(source)) return false;
    onLimited(source);
    if (request.method === 'ACK') return true;
    // A refusal to a proxy is always sent: the proxy answers the client itself
    // (no reflection from here), and a request it relayed and never saw
    // answered would make it take this gateway for dead (Kamailio's failover).
    if (client.viaEdge || refusals.take(perDialog ? `dialog ${dialog}` : source)) {
      stack.respondStateless(request, flow, 503, {
        headers: [reasonHeader('rate_limited'), ['Retry-After', '5']],
      });
    }
    return true;
  };
}
