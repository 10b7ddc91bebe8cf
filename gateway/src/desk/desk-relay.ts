import type { Logger } from '../observability/index.js';
import type { DeskFanout, DeskFanoutMessage } from './desk-fanout.js';

/** What the relay needs of this gateway's desk hub. */
export interface DeskRelayHub {
  /** Sends a frame raised elsewhere to the desks of `agentId` connected here. */
  deliverHere(agentId: string, frame: string): void;
  /** Sends frames to one desk socket connected here (a replay it asked for). */
  sendToSocket(agentId: string, socketId: string, frames: readonly string[]): void;
  /** Runs a desk frame (chat, hold) as if the desk were connected here. */
  receive(agentId: string, frame: string): { ok: boolean; reason?: string };
  /**
   * Hands `send` what this gateway has for the agent's desk now (its calls,
   * flows, callbacks), in order with the frames it raises for that agent.
   */
  framesFor(agentId: string, send: (frames: string[]) => void): void;
}

/** Calls whose owner is remembered (for a desk's chat or hold); the oldest go first. */
const OWNERS_KEPT = 10_000;

/**
 * This gateway's side of the desks' fan-out (see {@link DeskFanout}): shares
 * what its calls raise, hands the others' frames to the desks connected here,
 * and sends a desk's commands for another gateway's call to that gateway.
 */
export class DeskRelay {
  readonly #fanout: DeskFanout;
  readonly #hub: DeskRelayHub;
  readonly #log: Logger;
  /** callId → the gateway that owns it (learnt from its frames). */
  readonly #owners = new Map<string, string>();

  constructor(fanout: DeskFanout, hub: DeskRelayHub, logger: Logger) {
    this.#fanout = fanout;
    this.#hub = hub;
    this.#log = logger;
    fanout.onMessage((message) => this.#received(message));
  }

  /** A frame this gateway raised for the agent's desks: the desks elsewhere get it too. */
  shared(agentId: string, frame: string): void {
    this.#fanout.publish({ kind: 'frame', from: this.#fanout.instanceId, agentId, frame });
  }

  /** A desk connected here: the other gateways send what they have for its agent. */
  connected(agentId: string, socketId: string): void {
    this.#fanout.publish({
      kind: 'replay-request',
      from: this.#fanout.instanceId,
      agentId,
      socket: socketId,
    });
  }

  /** A desk frame for a call not on this gateway: sent to its owner, if known. */
  forward(agentId: string, callId: string, frame: string): boolean {
    const owner = this.#owners.get(callId);
    if (owner === undefined) return false;
    this.#fanout.publish({
      kind: 'command',
      from: this.#fanout.instanceId,
      to: owner,
      agentId,
      frame,
    });
    return true;
  }

  #received(message: DeskFanoutMessage): void {
    const me = this.#fanout.instanceId;
    switch (message.kind) {
      case 'frame':
        this.#learn(message.from, message.frame);
        this.#hub.deliverHere(message.agentId, message.frame);
        return;
      case 'command': {
        if (message.to !== me) return;
        const result = this.#hub.receive(message.agentId, message.frame);
        if (!result.ok)
          this.#log.info(
            { agentId: message.agentId, from: message.from, reason: result.reason },
            'desk command from another gateway refused',
          );
        return;
      }
      case 'replay-request':
        this.#hub.framesFor(message.agentId, (frames) => {
          if (frames.length === 0) return;
          this.#fanout.publish({
            kind: 'replay',
            from: me,
            to: message.from,
            agentId: message.agentId,
            socket: message.socket,
            frames,
          });
        });
        return;
      case 'replay':
        if (message.to !== me) return;
        for (const frame of message.frames) this.#learn(message.from, frame);
        this.#hub.sendToSocket(message.agentId, message.socket, message.frames);
        return;
    }
  }

  #learn(owner: string, frame: string): void {
    let callId: unknown;
    try {
      const parsed = JSON.parse(frame) as { callId?: unknown; call?: { callId?: unknown } };
      callId = parsed.callId ?? parsed.call?.callId;
    } catch {
      return;
    }
    if (typeof callId !== 'string') return;
    this.#owners.delete(callId);
    this.#owners.set(callId, owner);
    if (this.#owners.size > OWNERS_KEPT) {
      const oldest = this.#owners.keys().next();
      if (!oldest.done) this.#owners.delete(oldest.value);
    }
  }
}
