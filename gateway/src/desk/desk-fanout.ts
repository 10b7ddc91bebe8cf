/**
 * Desk events between the gateways of a cluster. An agent's desk is connected
 * to one gateway (whichever the load balancer chose); the agent's calls may
 * live on any. The gateway that owns a call publishes its desk frames; every
 * other gateway hands them to the desks connected to it. A desk's command for
 * a call owned elsewhere (chat, hold) goes to the owner; a desk that connects
 * asks the others for what they have for its agent (ringing and answered calls,
 * live flows, callbacks). One gateway alone needs none of this (`undefined`).
 */
export type DeskFanoutMessage =
  /** A frame for the agent's desks, raised by the gateway `from`. */
  | {
      readonly kind: 'frame';
      readonly from: string;
      readonly agentId: string;
      readonly frame: string;
    }
  /** A desk frame (chat, hold) for a call the gateway `to` owns. */
  | {
      readonly kind: 'command';
      readonly from: string;
      readonly to: string;
      readonly agentId: string;
      readonly frame: string;
    }
  /** A desk connected to `from`: what do the others have for `agentId`? */
  | {
      readonly kind: 'replay-request';
      readonly from: string;
      readonly agentId: string;
      readonly socket: string;
    }
  /** The answer, for one desk socket of `to`. */
  | {
      readonly kind: 'replay';
      readonly from: string;
      readonly to: string;
      readonly agentId: string;
      readonly socket: string;
      readonly frames: readonly string[];
    };

export interface DeskFanout {
  /** This gateway's instance id (the `from` of what it publishes). */
  readonly instanceId: string;
  publish(message: DeskFanoutMessage): void;
  /** Every message of the other gateways (never this one's own). */
  onMessage(listener: (message: DeskFanoutMessage) => void): void;
}
