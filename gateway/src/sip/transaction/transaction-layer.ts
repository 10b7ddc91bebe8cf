import { EventEmitter } from 'node:events';
import {
  createResponse,
  formatVia,
  generateBranch,
  isRfc3261Branch,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Logger } from '../../observability/index.js';
import type { Flow, Target, TransportLayer } from '../transport/index.js';
import { InviteClientTransaction, NonInviteClientTransaction } from './client-transactions.js';
import { InviteServerTransaction, NonInviteServerTransaction } from './server-transactions.js';
import type { TimerBase } from './timers.js';

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

export interface TransactionLayerEvents {
  /** A new request for the TU, with its server transaction (none for an ACK). */
  request: [SipRequest, ServerTransaction];
  /** An ACK that matched no server transaction: the ACK for a 2xx (the dialog's business). */
  ack: [SipRequest, Flow];
  /** A CANCEL matched a pending INVITE; the CANCEL was answered 200 already. */
  cancel: [SipRequest, InviteServerTransaction];
  /** A response that matched no client transaction. */
  strayResponse: [SipResponse, Flow];
}

/**
 * Runs before a request gets a transaction: true when it was answered
 * statelessly or dropped, so that refusing costs no state and no timers.
 */
export type RequestScreen = (request: SipRequest, flow: Flow) => boolean;

export interface TransactionStats {
  readonly server: number;
  readonly client: number;
}

/**
 * RFC 3261 §17: matches messages to transactions (§17.1.3, §17.2.3), creates
 * server transactions for new requests, and sends requests in client
 * transactions. The tables shrink as transactions terminate; `stats()` is
 * what leak tests watch.
 */
export class TransactionLayer extends EventEmitter<TransactionLayerEvents> {
  readonly #transport: TransportLayer;
  readonly #timers: TimerBase;
  readonly #log: Logger;
  readonly #server = new Map<string, ServerTransaction>();
  /** Call-ID, From tag, CSeq and method of live server transactions of out-of-dialog requests → their key. */
  readonly #outOfDialog = new Map<string, string>();
  readonly #client = new Map<string, ClientTransaction>();
  /** Accepted ISTs by "Call-ID CSeq-number", to stop 2xx retransmission when the ACK comes. */
  readonly #awaitingAck = new Map<string, InviteServerTransaction>();
  #screen: RequestScreen | undefined;

  constructor(deps: { transport: TransportLayer; timers: TimerBase; logger: Logger }) {
    super();
    this.#transport = deps.transport;
    this.#timers = deps.timers;
    this.#log = deps.logger.child({ module: 'sip-transaction' });
    // A fault handling one message must never take the process down: log it and go on.
    this.#transport.on('request', (request, flow) =>
      this.#guard(() => this.#onRequest(request, flow), request),
    );
    this.#transport.on('response', (response, flow) =>
      this.#guard(() => this.#onResponse(response, flow), response),
    );
  }

  #guard(work: () => void, message: SipRequest | SipResponse): void {
    try {
      work();
    } catch (error) {
      this.#log.error({ err: error, callId: safeCallId(message) }, 'SIP message handling failed');
    }
  }

  /**
   * Installs the screen every new request and every ACK that no completed
   * INVITE transaction absorbs passes before any state is made (RFC 3261
   * §8.2.7: a stateless answer is sent once per request received, never
   * retransmitted, so a flooder that never ACKs costs no transaction).
   */
  screen(screen: RequestScreen): void {
    this.#screen = screen;
  }

  /**
   * The INVITE server transaction `cancel` cancels (the same branch and
   * sent-by, RFC 3261 §9.2) while it has sent no final response.
   */
  pendingInvite(cancel: SipRequest): InviteServerTransaction | undefined {
    const invite = this.#server.get(serverKey(cancel, 'INVITE'));
    return invite instanceof InviteServerTransaction && invite.finalStatus === undefined
      ? invite
      : undefined;
  }

  stats(): TransactionStats {
    return { server: this.#server.size, client: this.#client.size };
  }

  /**
   * Sends `request` in a new client transaction: stamps our Via with a fresh
   * branch on top and Max-Forwards when missing. Listen to the returned
   * transaction's events; it is started already.
   */
  request(request: SipRequest, target: Target): ClientTransaction {
    const { host, port } = this.#transport.sentBy(target.flow?.protocol ?? target.protocol);
    const protocol = target.flow?.protocol ?? target.protocol;
    const branch = generateBranch();
    request.headers.prepend(
      'Via',
      formatVia({ transport: protocol, host, port, branch, rport: true }),
    );
    if (!request.headers.has('max-forwards')) request.headers.set('Max-Forwards', '70');
    return this.#startClient(request, target, branch);
  }

  /** Sends a CANCEL the ICT built (same branch as the INVITE). */
  sendCancel(cancel: SipRequest, invite: InviteClientTransaction): NonInviteClientTransaction {
    const branch = cancel.via.branch ?? '';
    const flow = invite.sentOn;
    const target: Target = flow
      ? { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, flow }
      : { protocol: 'UDP', address: '', port: 0 };
    return this.#startClient(cancel, target, branch) as NonInviteClientTransaction;
  }

  /**
   * Sends the CANCEL of an INVITE whose transaction this process no longer
   * has (sent before a restart, `calls/interrupted-invites.ts`): the CANCEL
   * carries the INVITE's Via as it was, so its branch is the INVITE's (§9.1).
   */
  cancelOrphan(cancel: SipRequest, target: Target): NonInviteClientTransaction {
    if (!cancel.headers.has('max-forwards')) cancel.headers.set('Max-Forwards', '70');
    return this.#startClient(cancel, target, cancel.via.branch ?? '') as NonInviteClientTransaction;
  }

  /**
   * Sends a request outside any transaction: the ACK for a 2xx (RFC 3261
   * §13.2.2.4), which the UAC core retransmits itself on each 2xx retransmission.
   */
  async sendAck(ack: SipRequest, target: Target): Promise<Flow | undefined> {
    const { host, port } = this.#transport.sentBy(target.flow?.protocol ?? target.protocol);
    if (!ack.headers.has('via')) {
      ack.headers.prepend(
        'Via',
        formatVia({
          transport: target.flow?.protocol ?? target.protocol,
          host,
          port,
          branch: generateBranch(),
          rport: true,
        }),
      );
    }
    if (!ack.headers.has('max-forwards')) ack.headers.set('Max-Forwards', '70');
    try {
      return await this.#transport.sendRequest(ack, target);
    } catch (error) {
      this.#log.debug({ err: error }, 'ACK could not be sent');
      return undefined;
    }
  }

  /** Answers a request whose transaction we own (the TU's way to respond). */
  respond(tx: ServerTransaction, response: SipResponse): void {
    tx.respond(response);
    if (tx instanceof InviteServerTransaction && response.status >= 200 && response.status < 300) {
      const key = `${tx.request.callId} ${tx.request.cseq.seq}`;
      this.#awaitingAck.set(key, tx);
      tx.once('terminated', () => {
        if (this.#awaitingAck.get(key) === tx) this.#awaitingAck.delete(key);
      });
    }
  }

  /** Terminates every transaction (shutdown). */
  close(): void {
    for (const tx of [...this.#server.values(), ...this.#client.values()]) tx.terminate();
  }

  #startClient(request: SipRequest, target: Target, branch: string): ClientTransaction {
    const key = clientKey(branch, request.method);
    const send = (req: SipRequest, to: Target) => this.#transport.sendRequest(req, to);
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(key, request, target, this.#timers, send)
        : new NonInviteClientTransaction(key, request, target, this.#timers, send);
    this.#client.set(key, tx);
    tx.once('terminated', () => {
      if (this.#client.get(key) === tx) this.#client.delete(key);
    });
    void tx.start();
    return tx;
  }

  #onResponse(response: SipResponse, flow: Flow): void {
    const branch = response.via.branch;
    const tx = branch ? this.#client.get(clientKey(branch, response.cseq.method)) : undefined;
    if (!tx) {
      this.emit('strayResponse', response, flow);
      return;
    }
    tx.receiveResponse(response);
  }

  #onRequest(request: SipRequest, flow: Flow): void {
    const method = request.method;
    if (method === 'ACK') {
      const ist = this.#server.get(serverKey(request, 'INVITE'));
      if (ist instanceof InviteServerTransaction && ist.state === 'completed') {
        ist.receiveAck();
        return;
      }
      if (this.#screen?.(request, flow)) return;
      const accepted = this.#awaitingAck.get(`${request.callId} ${request.cseq.seq}`);
      if (accepted) {
        accepted.ackFor2xx();
        this.#awaitingAck.delete(`${request.callId} ${request.cseq.seq}`);
      }
      // Neither absorbed by a Completed IST: the ACK of a 2xx, for the dialog.
      if (!ist || ist.state !== 'confirmed') this.emit('ack', request, flow);
      return;
    }
    const key = serverKey(request, method);
    const existing = this.#server.get(key);
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    if (this.#screen?.(request, flow)) return;
    // RFC 3261 §8.2.2.2, merged requests: the same out-of-dialog INVITE (From tag, Call-ID,
    // CSeq) on another branch while the first one's transaction lives is answered 482,
    // statelessly. A copy of a visitor's INVITE sent again on a new branch cannot become a
    // second call on the token it carries.
    // INVITEs only: a REGISTER's replay is the registrar's to judge (nonce counts, 401).
    const merged =
      method === 'INVITE' && request.to.tag === undefined
        ? `${request.callId} ${request.from.tag ?? ''} ${request.cseq.seq} ${method}`
        : undefined;
    if (merged !== undefined) {
      const first = this.#outOfDialog.get(merged);
      if (first !== undefined && first !== key && this.#server.has(first)) {
        void this.#transport.sendResponse(createResponse(request, 482), flow);
        return;
      }
    }
    const send = (response: SipResponse, to: Flow) => {
      void this.#transport.sendResponse(response, to);
    };
    const tx =
      method === 'INVITE'
        ? new InviteServerTransaction(key, request, flow, this.#timers, send)
        : new NonInviteServerTransaction(key, request, flow, this.#timers, send);
    this.#server.set(key, tx);
    if (merged !== undefined) this.#outOfDialog.set(merged, key);
    tx.once('terminated', () => {
      if (this.#server.get(key) === tx) this.#server.delete(key);
      if (merged !== undefined && this.#outOfDialog.get(merged) === key)
        this.#outOfDialog.delete(merged);
    });

    if (method === 'CANCEL') {
      const invite = this.pendingInvite(request);
      if (invite) {
        tx.respond(createResponse(request, 200, undefined, { toTag: true as const }));
        invite.cancelled(request);
        this.emit('cancel', request, invite);
      } else {
        // RFC 3261 §9.2: no matching transaction, or it has answered already.
        tx.respond(createResponse(request, 481));
      }
      return;
    }
    if (tx instanceof InviteServerTransaction) {
      // Stop the INVITE's retransmissions at once (§17.2.1); the TU decides the rest.
      tx.respond(createResponse(request, 100));
    }
    this.emit('request', request, tx);
  }
}

function clientKey(branch: string, method: string): string {
  return `${branch} ${method === 'ACK' ? 'INVITE' : method}`;
}

/**
 * §17.2.3: branch + sent-by + method for RFC 3261 branches; for RFC 2543 peers
 * (no magic cookie) the older fields (Request-URI, tags, Call-ID, CSeq, Via).
 */
function serverKey(request: SipRequest, method: string): string {
  const via = request.via;
  const sentBy = `${via.host}:${via.port ?? ''}`;
  if (isRfc3261Branch(via.branch)) return `${via.branch} ${sentBy} ${method}`;
  return [
    'rfc2543',
    request.requestUri,
    request.from.tag ?? '',
    request.callId,
    request.cseq.seq,
    sentBy,
    method,
  ].join(' ');
}

function safeCallId(message: SipRequest | SipResponse): string | undefined {
  try {
    return message.callId;
  } catch {
    return undefined;
  }
}
