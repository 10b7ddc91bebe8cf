/**
 * A call's legs and who is joined to whom: every leg the call made or took
 * (the caller's first; ended ones stay listed), `bridge(a, b)` piping two
 * legs' media on the call's router, and what a leg's end means for the call.
 * The caller's end ends it, and so does the queue's answered agent's BYE
 * (`callEndOf`); a flow's other party hanging up leaves the caller in the
 * flow. A browser's media lost while answered ends it too, unless the visitor
 * is reconnecting. In-dialog requests on the legs go to the call (`request`),
 * which hands them to `in-dialog.ts`. Kept apart from `Call` so the call's
 * class is about its life; `close()` closes every leg.
 */
import { EventEmitter } from 'node:events';
import { ParleyError } from '@parley/shared/errors';
import type { MediaRouter } from '../media/index.js';
import type { ServerTransaction, SipRequest } from '../sip/index.js';
import { callEndOf, type CallEnd } from './call-record.js';
import type { CallLeg } from './in-dialog.js';
import type { InboundLeg } from './inbound-leg.js';
import type { LegEnd } from './leg.js';
import type { OutboundLeg } from './outbound-leg.js';

/** What the legs need of their call. @internal */
export interface CallLegsHost {
  readonly caller: InboundLeg;
  router(): MediaRouter | undefined;
  /** The leg of the queue's agent who took the call, if one did. */
  agentLeg(): OutboundLeg | undefined;
  /** Whether the call is answered (the caller leaving then ends an answered call, not a cancelled one). */
  answered(): boolean;
}

export interface CallLegsEvents {
  /** A request within one of the legs' dialogs (BYE and ACK are the legs' own). */
  request: [leg: CallLeg, request: SipRequest, tx: ServerTransaction];
  /** A leg ended (or lost its media) and the call ends with it: how. */
  callEnds: [CallEnd];
}

export class CallLegs extends EventEmitter<CallLegsEvents> {
  readonly #host: CallLegsHost;
  readonly #legs = new Set<CallLeg>();
  readonly #peers = new Map<CallLeg, CallLeg>();

  constructor(host: CallLegsHost) {
    super();
    this.#host = host;
  }

  /** Every leg, the caller's first (ended ones too). */
  get all(): readonly CallLeg[] {
    return [...this.#legs];
  }

  /** The leg joined to `leg`, if any. */
  peerOf(leg: CallLeg): CallLeg | undefined {
    return this.#peers.get(leg);
  }

  /** The call takes `leg`: its requests are reported, its end may end the call, `close()` closes it. */
  adopt(leg: CallLeg): void {
    this.#legs.add(leg);
    leg.on('request', (request, tx) => this.emit('request', leg, request, tx));
    leg.on('ended', (end) => this.#ended(leg, end));
    leg.on('mediaLost', () => this.#mediaLost(leg));
  }

  /** Joins two legs' media (and their in-dialog requests): what one party says, the other hears. */
  bridge(a: CallLeg, b: CallLeg): void {
    const router = this.#host.router();
    if (!router || !a.media || !b.media)
      throw new ParleyError('internal', 'both legs need their media transports to be bridged');
    for (const leg of [a, b]) {
      const old = this.#peers.get(leg);
      if (old) this.#peers.delete(old);
    }
    router.pipe(a.media, b.media);
    this.#peers.set(a, b);
    this.#peers.set(b, a);
  }

  /** Closes every leg (safe twice: a closed leg ignores it). */
  close(reason: string): void {
    for (const leg of this.#legs) leg.close(reason);
  }

  /** A browser's media gone while answered (ICE failed, closed without a BYE). */
  #mediaLost(leg: CallLeg): void {
    const { caller } = this.#host;
    // The visitor is reconnecting: its rebind re-INVITE restarts ICE.
    if (leg === caller && caller.reconnecting) return;
    if (leg === caller)
      this.emit('callEnds', { outcome: 'answered', endedBy: 'visitor', reason: 'visitor_gone' });
    else if (leg === this.#host.agentLeg())
      this.emit('callEnds', { outcome: 'answered', endedBy: 'agent', reason: 'agent_unreachable' });
  }

  /** The caller's leg, or the agent's once answered, ended: so does the call. */
  #ended(leg: CallLeg, end: LegEnd): void {
    const peer = this.#peers.get(leg); // an ended leg is joined to no one
    if (peer && this.#peers.get(peer) === leg) this.#peers.delete(peer);
    this.#peers.delete(leg);
    // A flow's bridged party ('other') hanging up leaves the caller in the flow.
    const host = this.#host;
    const role = leg === host.caller ? 'caller' : leg === host.agentLeg() ? 'agent' : 'other';
    const how = callEndOf(role, end, host.answered());
    if (how) this.emit('callEnds', how);
  }
}
