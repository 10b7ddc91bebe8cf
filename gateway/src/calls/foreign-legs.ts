/**
 * What a call is told about legs other modules made for it (a flow's dial,
 * the gated call path's device legs): that one rings, that one was joined to
 * the caller, that an agent a flow rang was bridged. The call's own agents
 * (`agent-dial.ts`) report through their events instead. Kept apart from
 * `Call` so the call's class is about its own legs.
 */
import type { EventEmitter } from 'node:events';
import type { AgentDirectory } from '../agents/index.js';
import type { CallState } from '../storage/index.js';
import type { CallRecordKeeper } from './call-record.js';
import type { CallEvents } from './call-types.js';
import type { CallLeg } from './in-dialog.js';
import type { InboundLeg } from './inbound-leg.js';
import type { OutboundLeg } from './outbound-leg.js';

/** What the hooks need of their call. @internal */
export interface ForeignLegsHost {
  readonly caller: InboundLeg;
  readonly keeper: CallRecordKeeper;
  readonly agents: Pick<AgentDirectory, 'callStarted'>;
  readonly events: Pick<EventEmitter<CallEvents>, 'emit'>;
  ending(): boolean;
  transition(next: CallState): void;
}

/** An agent a flow bridged, and the end of its busy state. */
interface FlowAgent {
  readonly leg: OutboundLeg;
  readonly id: string;
  readonly end: () => void;
}

export class ForeignLegs {
  readonly #host: ForeignLegsHost;
  #flowAgent: FlowAgent | undefined;

  constructor(host: ForeignLegsHost) {
    this.#host = host;
  }

  /** The agent a flow bridged (its own `dial`, or a queue's offer), while its leg is up. */
  get flowAgent(): { readonly leg: OutboundLeg; readonly id: string } | undefined {
    return this.#flowAgent;
  }

  /**
   * An agent a flow rang answered and is bridged to the caller: the agent is
   * busy (`agents.callStarted`) until the leg ends, then in wrap-up; the desk
   * gets `answered`, and `agentLeft` when the leg ends (the call goes on).
   */
  agentConnected(leg: OutboundLeg, agentId: string, wrapUpSeconds: number): void {
    const host = this.#host;
    const endBusy = host.agents.callStarted(agentId);
    const agent = { leg, id: agentId, end: () => endBusy(wrapUpSeconds) };
    this.#flowAgent = agent;
    host.keeper.record.agentId = agentId;
    host.keeper.record.agentCallId = leg.callId;
    host.keeper.legsAnswered(host.caller, leg);
    host.transition('answered');
    host.keeper.save();
    host.events.emit('answered', agentId);
    leg.once('ended', () => {
      agent.end();
      if (this.#flowAgent === agent) this.#flowAgent = undefined;
      if (!host.ending()) host.events.emit('agentLeft', agentId);
    });
  }

  /**
   * Another module's leg rings for this call (`ringing`), or stopped ringing:
   * a call still routing is ringing from then on (the record's state), and
   * the desk shows the agent's phone ringing when the leg is an agent's.
   */
  showRinging(agentId: string | undefined, ringing: boolean): void {
    const host = this.#host;
    if (host.ending()) return;
    if (ringing && host.keeper.state === 'routing') host.transition('ringing');
    if (agentId !== undefined) host.events.emit(ringing ? 'agentRinging' : 'agentStopped', agentId);
  }

  /**
   * Another module joined `leg` to the caller (a flow's dialled number or SIP
   * URI, a gated tenant's device): the call is answered and its record keeps
   * the leg's dialog.
   */
  targetAnswered(leg: CallLeg): void {
    const host = this.#host;
    if (host.ending()) return;
    host.keeper.legsAnswered(host.caller, leg);
    host.transition('answered');
    host.keeper.save();
  }
}
