/**
 * Client transactions (RFC 3261 §17.1, with RFC 6026's Accepted state for INVITE).
 *
 * INVITE (ICT): calling (A: resend, B: timeout) → 1xx → proceeding → 2xx →
 * accepted (M: every retransmitted 2xx goes to the TU, which ACKs it) →
 * terminated; or → 300-699 → completed (ACK sent here; D absorbs retransmitted
 * finals) → terminated.
 *
 * non-INVITE (NICT): trying (E: resend from T1 doubling to T2, F: timeout) →
 * 1xx → proceeding (E at T2) → final → completed (K) → terminated.
 */
import { SipRequest, type SipResponse } from '../message/index.js';
import type { Flow, Target } from '../transport/index.js';
import { Transaction } from './transaction.js';
import { timerValues, type TimerBase, type TimerValues } from './timers.js';

export type SendRequest = (request: SipRequest, target: Target) => Promise<Flow>;

export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ClientTransactionEvents {
  terminated: [];
  /** Every response the TU must see: 1xx, the final, and (INVITE) retransmitted 2xx. */
  response: [SipResponse];
  /** Timer B/F, or no final within 64×T1 after a CANCEL: the TU acts as on a 408. */
  timeout: [];
  /** The request could not be sent (connect refused, no route): the TU acts as on a 503. */
  transportError: [Error];
}

abstract class ClientTransaction<State extends string> extends Transaction<
  State,
  ClientTransactionEvents
> {
  protected readonly target: Target;
  protected readonly sendRequest: SendRequest;
  protected readonly base: TimerBase;
  protected timers: TimerValues;
  protected flow: Flow | undefined;

  protected constructor(
    key: string,
    request: SipRequest,
    target: Target,
    initial: State,
    base: TimerBase,
    send: SendRequest,
  ) {
    super(key, request, initial);
    this.target = target;
    this.sendRequest = send;
    this.base = base;
    this.timers = timerValues(base, target.protocol !== 'UDP');
  }

  /** The flow the request left on (known once sent). */
  get sentOn(): Flow | undefined {
    return this.flow;
  }

  /** Sends the request the first time; retransmissions reuse the flow. */
  protected async transmit(request: SipRequest = this.request): Promise<boolean> {
    try {
      this.flow = await this.sendRequest(
        request,
        this.flow ? { ...this.target, flow: this.flow } : this.target,
      );
      this.timers = timerValues(this.base, this.flow.reliable);
      return true;
    } catch (error) {
      if (!this.terminated) {
        this.emit('transportError', error instanceof Error ? error : new Error(String(error)));
        this.setState('terminated' as State);
      }
      return false;
    }
  }

  /**
   * Sends the request, then (unreliable transports) retransmits it from
   * `interval` on, and gives up with `timeout` after `timeoutMs` (Timer B or F).
   */
  protected async begin(
    retransmit: (interval: number) => void,
    interval: number,
    timer: string,
    timeoutMs: number,
  ): Promise<void> {
    if (!(await this.transmit())) return;
    if (!this.flow?.reliable) retransmit(interval);
    this.startTimer(timer, timeoutMs, () => {
      this.emit('timeout');
      this.setState('terminated' as State);
    });
  }

  abstract start(): Promise<void>;
  abstract receiveResponse(response: SipResponse): void;
}

export class InviteClientTransaction extends ClientTransaction<InviteClientState> {
  #cancelWanted: SipRequest | undefined;
  #onCancelReady: ((cancel: SipRequest) => void) | undefined;

  constructor(
    key: string,
    request: SipRequest,
    target: Target,
    base: TimerBase,
    send: SendRequest,
  ) {
    super(key, request, target, 'calling', base, send);
  }

  start(): Promise<void> {
    return this.begin((interval) => this.#retransmit(interval), this.timers.A, 'B', this.timers.B);
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          if (this.state === 'calling') {
            this.stopTimer('A');
            // RFC 3261 §17.1.1.2: Timer B only covers Calling; a provisional ends it.
            this.stopTimer('B');
            this.setState('proceeding');
          }
          this.emit('response', response);
          this.#sendPendingCancel();
          return;
        }
        this.stopTimer('A');
        this.stopTimer('B');
        this.stopTimer('cancel');
        if (status < 300) {
          this.setState('accepted');
          this.startTimer('M', this.timers.M, () => this.setState('terminated'));
          this.emit('response', response);
          return;
        }
        this.setState('completed');
        void this.transmit(ackForNon2xx(this.request, response));
        this.emit('response', response);
        this.startTimer('D', this.timers.D, () => this.setState('terminated'));
        return;
      case 'accepted':
        if (status >= 200 && status < 300) this.emit('response', response);
        return;
      case 'completed':
        if (status >= 300) void this.transmit(ackForNon2xx(this.request, response));
        return;
      case 'terminated':
        return;
    }
  }

  /**
   * RFC 3261 §9.1: a CANCEL may be sent only once a provisional arrived. `send`
   * is called with the CANCEL request when that time comes (at once if it has).
   * After a CANCEL, a final must come within 64×T1 or the transaction times out.
   */
  cancel(send: (cancel: SipRequest) => void): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    if (this.#cancelWanted) return;
    this.#cancelWanted = buildCancel(this.request);
    this.#onCancelReady = send;
    if (this.state === 'proceeding') this.#sendPendingCancel();
    this.startTimer('cancel', 64 * this.base.t1, () => {
      this.emit('timeout');
      this.setState('terminated');
    });
  }

  #sendPendingCancel(): void {
    const cancel = this.#cancelWanted;
    const send = this.#onCancelReady;
    if (!cancel || !send) return;
    this.#onCancelReady = undefined;
    send(cancel);
  }

  #retransmit(interval: number): void {
    this.startTimer('A', interval, () => {
      void this.transmit();
      this.#retransmit(interval * 2);
    });
  }
}

export class NonInviteClientTransaction extends ClientTransaction<NonInviteClientState> {
  constructor(
    key: string,
    request: SipRequest,
    target: Target,
    base: TimerBase,
    send: SendRequest,
  ) {
    super(key, request, target, 'trying', base, send);
  }

  start(): Promise<void> {
    return this.begin((interval) => this.#retransmit(interval), this.timers.E, 'F', this.timers.F);
  }

  receiveResponse(response: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    if (response.status < 200) {
      this.setState('proceeding');
      this.emit('response', response);
      return;
    }
    this.stopTimer('E');
    this.stopTimer('F');
    this.setState('completed');
    this.emit('response', response);
    this.startTimer('K', this.timers.K, () => this.setState('terminated'));
  }

  #retransmit(interval: number): void {
    this.startTimer('E', interval, () => {
      void this.transmit();
      // In Proceeding the interval is T2 (§17.1.2.2).
      this.#retransmit(
        this.state === 'proceeding' ? this.timers.T2 : Math.min(interval * 2, this.timers.T2),
      );
    });
  }
}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final, part of the INVITE transaction. */
export function ackForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: [string, string][] = [
    ['Via', invite.headers.getAll('via')[0] ?? ''],
    ...invite.headers.getAll('route').map((r): [string, string] => ['Route', r]),
    ['Max-Forwards', '70'],
    ['From', invite.headers.get('from') ?? ''],
    ['To', response.headers.get('to') ?? ''],
    ['Call-ID', invite.callId],
    ['CSeq', `${invite.cseq.seq} ACK`],
  ];
  return new SipRequest({ method: 'ACK', requestUri: invite.requestUri, headers });
}

/** RFC 3261 §9.1: CANCEL of a pending INVITE (same branch, same CSeq number). */
export function buildCancel(invite: SipRequest): SipRequest {
  const headers: [string, string][] = [
    ['Via', invite.headers.getAll('via')[0] ?? ''],
    ...invite.headers.getAll('route').map((r): [string, string] => ['Route', r]),
    ['Max-Forwards', '70'],
    ['From', invite.headers.get('from') ?? ''],
    ['To', invite.headers.get('to') ?? ''],
    ['Call-ID', invite.callId],
    ['CSeq', `${invite.cseq.seq} CANCEL`],
  ];
  return new SipRequest({ method: 'CANCEL', requestUri: invite.requestUri, headers });
}
