/**
 * A call leg: the gateway's side of one SIP dialog (or of the INVITE that may
 * make one) with one party, and the media transport that carries that party's
 * audio. Inbound legs (we are the UAS, `inbound-leg.ts`) and outbound legs (we
 * are the UAC, `outbound-leg.ts`) share what is here: a state machine that
 * refuses illegal moves, typed events, the dialog filed with the SIP stack and
 * its in-dialog requests, the media transport, and `close()`.
 *
 * Ownership (mediasoup's tree, drachtio's B2BUA): the call makes its legs and
 * closes them; a leg owns its media transport and its dialog's filing, and
 * releases both when it ends. `close()` is safe to call twice.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ERROR_CODES, ParleyError, type ErrorCode } from '@parley/shared/errors';
import type { MediaTransport, Sdp } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import { reasonHeader } from '../sbc/refusal.js';
import type {
  ClientTransaction,
  Dialog,
  ServerTransaction,
  SipRequest,
  SipStack,
} from '../sip/index.js';
import { aim, type ChosenCodec, type LegSdp } from './sdp-bridge.js';

/** Why a leg ended. */
export type LegEndCause =
  /** Inbound: the caller sent CANCEL before an answer (answered 487). */
  | 'cancel'
  /** The party sent BYE (answered 200). */
  | 'bye'
  /** Inbound: no ACK came for our 2xx (RFC 3261 §13.3.1.4); a BYE was sent. */
  | 'ack_timeout'
  /** Inbound: the connection the INVITE came over closed (a browser's WebSocket). */
  | 'flow_closed'
  /** Inbound: we answered the INVITE with a failure. */
  | 'refused'
  /** Outbound: a failure response, no response at all, or the request could not be sent. */
  | 'failed'
  /** Outbound: we cancelled the INVITE. */
  | 'cancelled'
  /** We sent BYE. */
  | 'hung_up';

export interface LegEnd {
  readonly cause: LegEndCause;
  /** `remote`: the party (or its network) ended it; `local`: we did. */
  readonly by: 'local' | 'remote';
  /** A Parley error code, or another reason (`normal_clearing`, `cancelled`…). */
  readonly reason: string;
  /** The INVITE's final status, when the leg ended before an answer. */
  readonly status?: number | undefined;
}

export interface LegEvents<State extends string> {
  /** Every state change, after it happened. */
  state: [State];
  /**
   * An in-dialog request other than BYE and ACK (re-INVITE, INFO, OPTIONS,
   * UPDATE…), CSeq already checked: the listener answers it (`respond`).
   */
  request: [SipRequest, ServerTransaction];
  /** The party's WebRTC media is gone (ICE failed, or closed without a BYE) while answered. */
  mediaLost: [];
  /** The leg ended (once); its media transport and dialog are released. */
  ended: [LegEnd];
}

/**
 * A WebRTC connection that closes is also what an orderly hang-up looks like a
 * moment before its BYE arrives: the BYE gets this long to say why.
 */
const CLOSED_GRACE_MS = 1500;

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE';

export abstract class Leg<
  State extends string,
  Events extends LegEvents<State> & Record<keyof Events, unknown[]> = LegEvents<State>,
> extends EventEmitter<Events> {
  readonly id = randomUUID();
  /** What the leg is to its call: `caller`, `agent:<id>`… (logs, stored dialogs). */
  readonly name: string;
  /**
   * The SDP the gateway last sent on this leg (plain RTP legs): later SDP on
   * the leg continues its o= line (RFC 3264 §8). @internal for calls/.
   */
  sentSdp: Sdp | undefined;
  protected readonly stack: SipStack;
  protected readonly log: Logger;
  readonly #transitions: Readonly<Record<State, readonly State[]>>;
  #state: State;
  #media: MediaTransport | undefined;
  #dialog: Dialog | undefined;
  #unfile: (() => void) | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #end: LegEnd | undefined;
  /** The codec the leg settled on, once known. */
  #codec: ChosenCodec | undefined;

  protected constructor(
    init: { stack: SipStack; name: string; logger: Logger },
    initial: State,
    transitions: Readonly<Record<State, readonly State[]>>,
  ) {
    super();
    this.stack = init.stack;
    this.name = init.name;
    this.log = init.logger;
    this.#state = initial;
    this.#transitions = transitions;
  }

  get state(): State {
    return this.#state;
  }

  get ended(): boolean {
    return this.#end !== undefined;
  }

  /** How the leg ended, once it did. */
  get end(): LegEnd | undefined {
    return this.#end;
  }

  /** The dialog, once there is one (answered; an outbound leg's early dialog is not kept). */
  get dialog(): Dialog | undefined {
    return this.#dialog;
  }

  /** The transport carrying this party's audio: what the router bridges, and what a media application attaches to. */
  get media(): MediaTransport | undefined {
    return this.#media;
  }

  /** The codec this leg's media settled on (the gateway's choice, or the answer's), once known. */
  get codec(): ChosenCodec | undefined {
    return this.#codec;
  }

  /** @internal Sets the codec the leg settled on (calls/ only). */
  settleCodec(codec: ChosenCodec | undefined): void {
    this.#codec = codec;
  }

  /**
   * Gives the leg its media transport (it closes it when it ends). A browser's
   * transport reports its connection: `mediaLost` while answered.
   */
  useMedia(transport: MediaTransport): void {
    if (this.#media) throw new ParleyError('internal', `leg ${this.name} has its media already`);
    if (this.ended) {
      transport.close();
      return;
    }
    this.#media = transport;
    if (transport.kind !== 'webrtc') return;
    transport.on('state', (state) => {
      if ((this.#state as string) !== 'answered' || this.ended) return;
      if (state === 'failed') {
        this.log.info({ leg: this.name, state }, 'browser media connection lost');
        this.#emitOwn('mediaLost');
      } else if (state === 'closed' && !this.#graceTimer) {
        this.#graceTimer = setTimeout(() => {
          if ((this.#state as string) !== 'answered' || this.ended) return;
          this.log.info({ leg: this.name, state }, 'browser media connection closed without a BYE');
          this.#emitOwn('mediaLost');
        }, CLOSED_GRACE_MS);
        this.#graceTimer.unref();
      }
    });
  }

  /** Points a plain RTP transport where the party's SDP says it receives (no-op for WebRTC). */
  aimAt(sdp: LegSdp): void {
    const media = this.#media;
    if (media && media.kind !== 'webrtc') aim(media, sdp);
  }

  /** Answers a request of this leg (an in-dialog request from the `request` event). */
  respond(
    tx: ServerTransaction,
    status: number,
    options: Parameters<SipStack['respond']>[2] = {},
  ): void {
    this.stack.respond(tx, status, options);
  }

  /** Sends a request within the leg's dialog; undefined when there is no dialog (or the leg ended). */
  request(
    method: string,
    options: Parameters<Dialog['createRequest']>[1] = {},
  ): { request: SipRequest; tx: ClientTransaction } | undefined {
    const dialog = this.#dialog;
    if (!dialog || this.ended) return undefined;
    const request = dialog.createRequest(method, options);
    return { request, tx: this.stack.transactions.request(request, dialog.target()) };
  }

  /** Sends an ACK (for a 2xx) within the dialog. */
  sendAck(ack: SipRequest): void {
    if (this.#dialog) void this.stack.transactions.sendAck(ack, this.#dialog.target());
  }

  /**
   * Hangs up an answered leg: BYE with a Reason (RFC 3326) carrying `reason`
   * (a Parley code with its SIP status, else cause 200). No-op once ended.
   */
  hangUp(reason: string): void {
    if (this.ended) return;
    if (!this.#dialog) {
      throw new ParleyError(
        'internal',
        `leg ${this.name} has no dialog to hang up (${this.#state})`,
      );
    }
    this.request('BYE', { headers: [byeReason(reason)] });
    this.finish({ cause: 'hung_up', by: 'local', reason });
  }

  /** Ends the leg now, doing what its state needs (refuse, cancel, BYE); then releases it. Safe twice. */
  close(reason = 'normal_clearing'): void {
    if (!this.ended) this.terminate(reason);
    this.#release();
  }

  /**
   * Screens an in-dialog request before anything else looks at it: false when
   * this method answered it (a refusal). Every request is admitted by default;
   * an inbound leg checks one that came over another connection (a reconnect).
   */
  protected admitRequest(_request: SipRequest, _tx: ServerTransaction): boolean {
    return true;
  }

  /** Ends the leg the way its state needs; must finish() it. */
  protected abstract terminate(reason: string): void;

  protected transition(next: State): void {
    const from = this.#state;
    if (from === next) return;
    if (!this.#transitions[from].includes(next)) {
      throw new ParleyError('internal', `leg ${this.name}: ${from} → ${next} is not allowed`);
    }
    this.#state = next;
    this.#emitOwn('state', next);
  }

  /** Files the dialog with the stack: its in-dialog requests come to this leg. */
  protected fileDialog(dialog: Dialog): void {
    this.#dialog = dialog;
    this.#unfile = this.stack.addDialog(dialog, {
      onAck: () => undefined, // 2xx ACKs stop our retransmissions in the transaction layer
      onRequest: (request, tx) => this.#onRequest(request, tx),
    });
  }

  /** The leg is over: state `ended`, resources released, `ended` emitted (once). */
  protected finish(end: LegEnd): void {
    if (this.#end) return;
    this.#end = end;
    this.transition('ended' as State);
    this.#release();
    this.#emitOwn('ended', end);
  }

  /** Emits one of the leg's events; a throwing listener is logged, never breaks the leg. */
  protected emitLeg<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    this.#emit(event, args);
  }

  #emitOwn<K extends keyof LegEvents<State>>(event: K, ...args: LegEvents<State>[K]): void {
    this.#emit(event, args);
  }

  #emit(event: string, args: unknown[]): void {
    try {
      (this as EventEmitter).emit(event, ...args);
    } catch (error) {
      this.log.error({ err: error, leg: this.name, event }, 'leg listener threw');
    }
  }

  #onRequest(request: SipRequest, tx: ServerTransaction): void {
    const dialog = this.#dialog;
    if (!dialog || this.ended) {
      this.stack.respond(tx, 481);
      return;
    }
    // Before the CSeq check: a refused request must not move the dialog's CSeq.
    if (!this.admitRequest(request, tx)) return;
    if (!dialog.acceptRemoteSeq(request)) {
      this.stack.respond(tx, 500, { reason: 'CSeq Out Of Order' });
      return;
    }
    if (request.method === 'BYE') {
      this.stack.respond(tx, 200);
      this.finish({ cause: 'bye', by: 'remote', reason: 'normal_clearing' });
      return;
    }
    if ((this as EventEmitter).listenerCount('request') === 0) {
      this.stack.respond(tx, 405, { headers: [['Allow', ALLOW]] });
      return;
    }
    this.#emitOwn('request', request, tx);
  }

  #release(): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#unfile?.();
    this.#unfile = undefined;
    this.#media?.close();
  }
}

/** The methods a leg's dialog takes (RFC 3261 §20.5 Allow). */
export const LEG_ALLOW = ALLOW;

/** The Reason of a BYE or CANCEL: a Parley code with its SIP status, else cause 200 (RFC 3326). */
export function byeReason(reason: string): [string, string] {
  return isErrorCode(reason) ? reasonHeader(reason) : ['Reason', `SIP;cause=200;text="${reason}"`];
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
