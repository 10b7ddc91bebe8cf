/**
 * Server transactions (RFC 3261 §17.2, with RFC 6026's Accepted state).
 *
 * INVITE (IST):
 *
 *              INVITE            ┌──────────────┐ 1xx from TU: send
 *   ─────────────────────────────▶  proceeding  ◀──┐ INVITE: resend last 1xx
 *                                └──┬────────┬──┘
 *                    300-699: send, │        │ 2xx: send
 *                    start G, H     ▼        ▼
 *                          ┌───────────┐  ┌──────────┐  INVITE: absorb
 *              INVITE:     │ completed │  │ accepted │  2xx from TU: send
 *              resend,  ──▶│  (G: resend, │  (L)     │  (unreliable: 2xx resent
 *                          │  H: timeout) │          │   until the TU reports the ACK)
 *                          └────┬──────┘  └────┬─────┘
 *                        ACK: I │              │ L fires
 *                          ┌────▼──────┐       │
 *                          │ confirmed │──I───▶│ terminated
 *                          └───────────┘
 *
 * non-INVITE (NIST): trying → (1xx) proceeding → (final) completed → (J) terminated.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Flow } from '../transport/index.js';
import { Transaction } from './transaction.js';
import type { TimerBase, TimerValues } from './timers.js';
import { timerValues } from './timers.js';

export type SendResponse = (response: SipResponse, flow: Flow) => void;

export type InviteServerState =
  'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ServerTransactionEvents {
  terminated: [];
  /** IST: no ACK for a non-2xx final within Timer H, or for a 2xx within Timer L (RFC 3261 §13.3.1.4). */
  timeout: [];
  /** IST: the INVITE was cancelled (the layer already answered the CANCEL with 200). */
  cancel: [SipRequest];
}

abstract class ServerTransaction<State extends string> extends Transaction<
  State,
  ServerTransactionEvents
> {
  readonly flow: Flow;
  protected readonly timers: TimerValues;
  protected readonly send: SendResponse;
  protected lastResponse: SipResponse | undefined;

  protected constructor(
    key: string,
    request: SipRequest,
    flow: Flow,
    initial: State,
    base: TimerBase,
    send: SendResponse,
  ) {
    super(key, request, initial);
    this.flow = flow;
    this.timers = timerValues(base, flow.reliable);
    this.send = send;
  }

  /** The final status sent so far, if any. */
  get finalStatus(): number | undefined {
    const status = this.lastResponse?.status;
    return status !== undefined && status >= 200 ? status : undefined;
  }

  abstract respond(response: SipResponse): void;
  /** A retransmission of the request arrived. */
  abstract receiveRetransmission(): void;
}

export class InviteServerTransaction extends ServerTransaction<InviteServerState> {
  #ackReceived = false;

  constructor(key: string, request: SipRequest, flow: Flow, base: TimerBase, send: SendResponse) {
    super(key, request, flow, 'proceeding', base, send);
  }

  respond(response: SipResponse): void {
    const state = this.state;
    if (state === 'terminated' || state === 'confirmed' || state === 'completed') return;
    if (state === 'accepted') {
      // RFC 6026 §7.1: further 2xx from the TU pass through in Accepted.
      if (response.status >= 200 && response.status < 300) this.send(response, this.flow);
      return;
    }
    this.lastResponse = response;
    this.send(response, this.flow);
    if (response.status < 200) return;
    if (response.status < 300) {
      this.setState('accepted');
      this.startTimer('L', this.timers.L, () => {
        if (!this.#ackReceived) this.emit('timeout');
        this.setState('terminated');
      });
      if (!this.flow.reliable) this.#retransmit2xx(this.timers.G);
      return;
    }
    this.setState('completed');
    if (!this.flow.reliable) this.#retransmitFinal(this.timers.G);
    this.startTimer('H', this.timers.H, () => {
      this.emit('timeout');
      this.setState('terminated');
    });
  }

  receiveRetransmission(): void {
    // Proceeding: the last provisional; Completed: the final; Accepted: absorbed (RFC 6026).
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.send(this.lastResponse, this.flow);
    }
  }

  /** The ACK for our non-2xx final (same transaction). */
  receiveAck(): void {
    if (this.state !== 'completed') return;
    this.setState('confirmed');
    this.stopTimer('G');
    this.stopTimer('H');
    this.startTimer('I', this.timers.I, () => this.setState('terminated'));
  }

  /** The TU matched the ACK for our 2xx (its own transaction): stop retransmitting. */
  ackFor2xx(): void {
    this.#ackReceived = true;
    this.stopTimer('G2xx');
  }

  get ackReceived(): boolean {
    return this.#ackReceived;
  }

  cancelled(cancel: SipRequest): void {
    this.emit('cancel', cancel);
  }

  #retransmitFinal(interval: number): void {
    this.startTimer('G', interval, () => {
      if (this.lastResponse) this.send(this.lastResponse, this.flow);
      this.#retransmitFinal(Math.min(interval * 2, this.timers.T2));
    });
  }

  /** RFC 3261 §13.3.1.4: the UAS core resends its 2xx until the ACK arrives. */
  #retransmit2xx(interval: number): void {
    this.startTimer('G2xx', interval, () => {
      if (this.#ackReceived) return;
      if (this.lastResponse) this.send(this.lastResponse, this.flow);
      this.#retransmit2xx(Math.min(interval * 2, this.timers.T2));
    });
  }
}

export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerState> {
  constructor(key: string, request: SipRequest, flow: Flow, base: TimerBase, send: SendResponse) {
    super(key, request, flow, 'trying', base, send);
  }

  respond(response: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.lastResponse = response;
    this.send(response, this.flow);
    if (response.status < 200) {
      this.setState('proceeding');
      return;
    }
    this.setState('completed');
    this.startTimer('J', this.timers.J, () => this.setState('terminated'));
  }

  receiveRetransmission(): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.send(this.lastResponse, this.flow);
    }
  }
}
