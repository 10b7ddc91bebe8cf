/**
 * The walk over a trunk's peers for one outbound call (RFC 3263 §4.3): the
 * trunk's dial order taken once when the call starts (peers up only, lower
 * priority first, weighted within one priority: `Trunk.dialOrder`), then the
 * next peer whenever the one tried answers 503 or 408, times out or cannot be
 * reached before it rang, and the call was not cancelled. A peer that rang
 * keeps the call: its failure is the call's. The walk also keeps the INVITE
 * transaction out now (after a challenge, the retried one) and where it went.
 */
import type { InviteClientTransaction, SipRequest, SipStack, Target } from '../sip/index.js';
import type { TrunkPeerInfo } from './trunk.js';

export class PeerWalk {
  readonly #peers: readonly TrunkPeerInfo[];
  #index = -1;
  #ringing = false;
  #lastStatus: number | undefined;
  #out:
    | {
        readonly invite: SipRequest;
        readonly target: Target;
        readonly ict: InviteClientTransaction;
      }
    | undefined;

  constructor(peers: readonly TrunkPeerInfo[]) {
    this.#peers = peers;
  }

  /** No peer to try at all. */
  get empty(): boolean {
    return this.#peers.length === 0;
  }

  /** The peer tried now (undefined before the first and after the last). */
  get current(): TrunkPeerInfo | undefined {
    return this.#peers[this.#index];
  }

  /** The peer tried now sent a provisional response other than 100. */
  get ringing(): boolean {
    return this.#ringing;
  }

  /** The INVITE transaction out now (the last one sent). */
  get ict(): InviteClientTransaction | undefined {
    return this.#out?.ict;
  }

  get invite(): SipRequest | undefined {
    return this.#out?.invite;
  }

  /** The INVITE out now and where it went, once the peer tried now rang. */
  ringingInvite(): { readonly invite: SipRequest; readonly target: Target } | undefined {
    if (!this.#ringing || !this.#out) return undefined;
    return { invite: this.#out.invite, target: this.#out.target };
  }

  /** Sends `invite` to `peer` (the one tried now) as a new INVITE transaction. */
  send(stack: SipStack, peer: TrunkPeerInfo, invite: SipRequest): InviteClientTransaction {
    const target = peerTarget(peer);
    const ict = stack.transactions.request(invite, target) as InviteClientTransaction;
    this.#out = { invite, target, ict };
    return ict;
  }

  /** Moves to the next peer, not ringing yet; undefined when every peer was tried. */
  next(): TrunkPeerInfo | undefined {
    this.#index += 1;
    this.#ringing = false;
    return this.current;
  }

  rang(): void {
    this.#ringing = true;
  }

  /** A final status from a peer (or 408/503 for a timeout/transport error), for the last failure's detail. */
  ended(status: number): void {
    this.#lastStatus = status;
  }

  /** Whether `status` moves the call to the next peer (`cancelled`: we sent, or are to send, a CANCEL). */
  movesOn(status: number, cancelled: boolean): boolean {
    return (status === 503 || status === 408) && !this.#ringing && !cancelled;
  }

  /** The failure's detail once every peer failed. */
  exhausted(): string {
    return `every peer failed (last status ${this.#lastStatus ?? 'none'})`;
  }
}

/** Where an INVITE to `peer` goes (an IPv6 host without its brackets). */
function peerTarget(peer: TrunkPeerInfo): Target {
  return {
    protocol: peer.transport === 'tcp' ? 'TCP' : 'UDP',
    address: peer.host.replace(/^\[|\]$/g, ''),
    port: peer.port,
  };
}
