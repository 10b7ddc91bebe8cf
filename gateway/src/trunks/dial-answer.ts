/**
 * The 2xx side of an outbound trunk call. Every 2xx to our INVITE is ACKed
 * here, with the INVITE's credentials (RFC 3261 §22.1), since the transaction
 * layer leaves a 2xx's ACK to the UAC core (§13.2.2.4). The first 2xx the call
 * still wants becomes its dialog, handed over as an `AnsweredTrunkCall`; a
 * retransmission of that 2xx is ACKed again; any other (another fork's 2xx, or
 * one that crossed our CANCEL) is ACKed and hung up at once with a BYE.
 */
import type { Logger } from '../observability/index.js';
import type { DigestClient } from '../sip/digest-client.js';
import {
  Dialog,
  type InviteClientTransaction,
  type SipRequest,
  type SipResponse,
  type SipStack,
} from '../sip/index.js';
import type { AnsweredTrunkCall } from './dial-types.js';
import type { TrunkPeerInfo } from './trunk.js';

export type TakenAnswer =
  /** The call answered: the leg owns its dialog from now on (BYE, re-INVITE). */
  | { readonly kind: 'kept'; readonly call: AnsweredTrunkCall }
  /** The kept dialog's 2xx again: ACKed again. */
  | { readonly kind: 'retransmitted' }
  /** A 2xx the call did not want: ACKed and sent a BYE. */
  | { readonly kind: 'hung_up' };

export class DialAnswers {
  readonly #stack: SipStack;
  readonly #log: Logger;
  readonly #digest: DigestClient | undefined;
  #kept: { readonly dialog: Dialog; readonly ack: SipRequest } | undefined;

  constructor(stack: SipStack, log: Logger, digest: DigestClient | undefined) {
    this.#stack = stack;
    this.#log = log;
    this.#digest = digest;
  }

  /**
   * ACKs a 2xx that `ict` received and keeps its dialog when `wanted` (the
   * call still dialling, not cancelled, `ict` its INVITE now) and none is kept.
   */
  take(
    ict: InviteClientTransaction,
    response: SipResponse,
    peer: TrunkPeerInfo,
    wanted: boolean,
  ): TakenAnswer {
    const stack = this.#stack;
    const kept = this.#kept;
    // A retransmitted 2xx of the dialog we have: ACK it again (§13.2.2.4).
    if (kept && response.to.tag === kept.dialog.remoteTag) {
      void stack.transactions.sendAck(kept.ack, kept.dialog.target());
      return { kind: 'retransmitted' };
    }
    const invite = ict.request;
    const contact = invite.headers.get('contact')?.replace(/^<|>$/g, '') ?? '';
    const dialog = Dialog.asUac(invite, response, ict.sentOn, contact);
    const ack = dialog.createRequest('ACK', {
      cseq: invite.cseq.seq,
      headers: credentials(invite),
    });
    void stack.transactions.sendAck(ack, dialog.target());
    if (kept || !wanted) {
      // Another fork's 2xx, or an answer that crossed our CANCEL: take it and hang up.
      this.#log.info({ peer: peer.id }, 'late or forked 2xx from the carrier: ACK and BYE');
      const bye = dialog.createRequest('BYE', {
        headers: [['Reason', 'SIP;cause=487;text="cancelled"']],
      });
      stack.transactions.request(bye, dialog.target());
      return { kind: 'hung_up' };
    }
    this.#kept = { dialog, ack };
    const digest = this.#digest;
    const call: AnsweredTrunkCall = {
      response,
      invite,
      dialog,
      sdp: response.body,
      peer,
      authorize: (request, challenge) => digest?.authorize(request, challenge).ok ?? false,
    };
    return { kind: 'kept', call };
  }
}

/** RFC 3261 §22.1: the ACK for a 2xx carries the INVITE's credentials. */
function credentials(invite: SipRequest): [string, string][] {
  return [
    ...invite.headers.getLines('authorization').map((v): [string, string] => ['Authorization', v]),
    ...invite.headers
      .getLines('proxy-authorization')
      .map((v): [string, string] => ['Proxy-Authorization', v]),
  ];
}
