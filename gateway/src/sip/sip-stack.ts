import type { Server } from 'node:http';
import {
  createResponse,
  type CreateResponseOptions,
  type SipRequest,
  type SipResponse,
} from './message/index.js';
import type { Logger } from '../observability/index.js';
import { dialogId, type Dialog } from './dialog/dialog.js';
import {
  TransactionLayer,
  type InviteServerTransaction,
  type ServerTransaction,
  type TimerBase,
} from './transaction/index.js';
import {
  TransportLayer,
  clientOf,
  type Flow,
  type ListenerConfig,
  type TcpLimits,
} from './transport/index.js';

/** What owns a dialog (a call leg) and gets its in-dialog requests. */
export interface DialogUsage {
  onRequest(request: SipRequest, tx: ServerTransaction): void;
  onAck(ack: SipRequest, flow: Flow): void;
}

export type InviteHandler = (invite: SipRequest, tx: InviteServerTransaction) => void;
export type RegisterHandler = (register: SipRequest, tx: ServerTransaction) => void;
/**
 * The SBC's screen, run on every request before it gets a transaction
 * (`respondStateless` is the way to answer): true when it answered or dropped it.
 * `dialog`: the id of the established dialog the request belongs to (one the
 * gateway filed with `addDialog`: an answered, authenticated call leg); for a
 * CANCEL of a pending INVITE from the same client (same Call-ID, From tag and
 * branch), that call's key (`invite <Call-ID>;<From tag>`); else undefined
 * (out of any dialog, a To tag we do not know, a CANCEL of nothing pending).
 */
export type StatelessScreen = (
  request: SipRequest,
  flow: Flow,
  dialog: string | undefined,
) => boolean;

/** Methods this user agent understands (RFC 3261 §20.5 Allow). */
export const ALLOWED_METHODS = [
  'INVITE',
  'ACK',
  'CANCEL',
  'BYE',
  'OPTIONS',
  'INFO',
  'UPDATE',
  'REGISTER',
] as const;
const KNOWN_METHODS = new Set([
  ...ALLOWED_METHODS,
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
]);
/** Option tags we support (Require of anything else is refused with 420). */
const SUPPORTED: readonly string[] = ['outbound', 'path'];

export interface SipStackOptions {
  readonly listen: readonly ListenerConfig[];
  readonly ws?: { readonly server: Server; readonly path: string; readonly secure?: boolean };
  readonly advertisedHost?: string | undefined;
  readonly maxMessageBytes: number;
  /** SIP over TCP limits (config `sip.tcp`). */
  readonly tcp?: TcpLimits | undefined;
  /** SIP edge proxies whose X-Parley-Source/-Origin headers are believed (config `sip.edge.trusted`). */
  readonly edge?: readonly string[] | undefined;
  readonly timers: TimerBase;
  readonly userAgent: string;
  readonly logger: Logger;
}

/**
 * The user-agent core both legs share (RFC 3261 §8, §12): it owns the
 * transport and transaction layers, answers what needs no application
 * (OPTIONS keep-alives, unknown dialogs with 481, unknown methods with
 * 405/501, unsupported Require with 420) and hands INVITE and REGISTER to the
 * handlers the gateway installs, and in-dialog requests to their dialog.
 */
export class SipStack {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly userAgent: string;
  readonly #log: Logger;
  readonly #dialogs = new Map<string, DialogUsage>();
  #invite: InviteHandler | undefined;
  #register: RegisterHandler | undefined;
  /** Set while draining: the headers of the 503 that answers OPTIONS probes. */
  #unavailable: readonly (readonly [string, string])[] | undefined;
  /** Called for every request before any transaction: the SBC's chance to refuse (returns true when it answered or dropped). */
  #screen: StatelessScreen | undefined;

  constructor(options: SipStackOptions) {
    this.userAgent = options.userAgent;
    this.#log = options.logger.child({ module: 'sip' });
    this.transport = new TransportLayer({
      listen: options.listen,
      ...(options.ws ? { ws: options.ws } : {}),
      advertisedHost: options.advertisedHost,
      maxMessageBytes: options.maxMessageBytes,
      tcp: options.tcp,
      edge: options.edge,
      logger: options.logger,
    });
    this.transactions = new TransactionLayer({
      transport: this.transport,
      timers: options.timers,
      logger: options.logger,
    });
    this.transactions.screen((request, flow) => this.#screenStateless(request, flow));
    this.transactions.on('request', (request, tx) => this.#dispatch(request, tx));
    this.transactions.on('ack', (ack, flow) => {
      const usage = this.#dialogFor(ack);
      usage?.onAck(ack, flow);
    });
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  async close(): Promise<void> {
    this.transactions.close();
    await this.transport.close();
  }

  onInvite(handler: InviteHandler): void {
    this.#invite = handler;
  }

  onRegister(handler: RegisterHandler): void {
    this.#register = handler;
  }

  /**
   * Draining: from now on out-of-dialog OPTIONS are answered 503 with
   * `headers` (a Retry-After, a Reason), so a proxy's probing (Kamailio's
   * dispatcher) takes this gateway out of its set and sends it no new calls.
   * In-dialog requests are untouched: the calls in progress go on.
   */
  drain(headers: readonly (readonly [string, string])[] = []): void {
    this.#unavailable = headers;
  }

  get draining(): boolean {
    return this.#unavailable !== undefined;
  }

  /** Installs the SBC's per-request screen (rate limits, hostile requests), run before any transaction. */
  screen(screen: StatelessScreen): void {
    this.#screen = screen;
  }

  /**
   * Answers a request without a transaction (RFC 3261 §8.2.7, a stateless
   * UAS): one response per request received, never retransmitted. ACKs are
   * never answered.
   */
  respondStateless(
    request: SipRequest,
    flow: Flow,
    status: number,
    options: { reason?: string; headers?: readonly (readonly [string, string])[] } = {},
  ): void {
    if (request.method === 'ACK') return;
    const response = createResponse(request, status, options.reason, {
      toTag: true,
      headers: [['Server', this.userAgent], ...(options.headers ?? [])],
    });
    void this.transport.sendResponse(response, flow);
  }

  /** Files a dialog so its in-dialog requests reach `usage`; returns the way to unfile it. */
  addDialog(dialog: Dialog, usage: DialogUsage): () => void {
    const id = dialog.id;
    this.#dialogs.set(id, usage);
    return () => {
      if (this.#dialogs.get(id) === usage) this.#dialogs.delete(id);
    };
  }

  get dialogCount(): number {
    return this.#dialogs.size;
  }

  /** Builds and sends a response in `tx`, with our User-Agent (Server) header. */
  respond(
    tx: ServerTransaction,
    status: number,
    options: {
      reason?: string;
      headers?: readonly (readonly [string, string])[];
      toTag?: string;
      body?: Buffer | string;
      contentType?: string;
    } = {},
  ): SipResponse {
    const extra: CreateResponseOptions = {
      ...(options.toTag !== undefined || status > 100 ? { toTag: options.toTag ?? true } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
      headers: [
        ['Server', this.userAgent],
        ...(options.contentType
          ? ([['Content-Type', options.contentType]] as [string, string][])
          : []),
        ...(options.headers ?? []),
      ],
    };
    const response = createResponse(tx.request, status, options.reason, extra);
    this.transactions.respond(tx, response);
    return response;
  }

  #dialogFor(request: SipRequest): DialogUsage | undefined {
    const id = this.#knownDialog(request);
    return id === undefined ? undefined : this.#dialogs.get(id);
  }

  /** The id of the filed dialog `request` belongs to, else undefined. */
  #knownDialog(request: SipRequest): string | undefined {
    const localTag = request.to.tag;
    const remoteTag = request.from.tag;
    if (localTag === undefined || remoteTag === undefined) return undefined;
    const id = dialogId(request.callId, localTag, remoteTag);
    return this.#dialogs.has(id) ? id : undefined;
  }

  /**
   * A CANCEL's call: the pending INVITE it cancels, sent by the same client
   * (a CANCEL has no To tag, so no dialog; one from elsewhere, or for another
   * Call-ID or From tag, cancels nothing and gets no call's key).
   */
  #cancelledCall(request: SipRequest, flow: Flow): string | undefined {
    if (request.method !== 'CANCEL') return undefined;
    const invite = this.transactions.pendingInvite(request);
    if (!invite) return undefined;
    const original = invite.request;
    if (original.callId !== request.callId || original.from.tag !== request.from.tag)
      return undefined;
    if (clientOf(original, invite.flow).address !== clientOf(request, flow).address)
      return undefined;
    return `invite ${request.callId};${request.from.tag ?? ''}`;
  }

  /**
   * Before any transaction: the SBC's screen, then requests for dialogs we do
   * not know (RFC 3261 §12.2.2), answered 481 without a transaction so a
   * flood of To-tagged requests leaves nothing behind.
   */
  #screenStateless(request: SipRequest, flow: Flow): boolean {
    const dialog = this.#knownDialog(request) ?? this.#cancelledCall(request, flow);
    if (this.#screen?.(request, flow, dialog)) return true;
    if (request.method === 'ACK' || request.to.tag === undefined) return false;
    if (dialog !== undefined) return false;
    this.respondStateless(request, flow, 481);
    return true;
  }

  #dispatch(request: SipRequest, tx: ServerTransaction): void {
    try {
      const method = request.method;
      if (!KNOWN_METHODS.has(method)) {
        this.respond(tx, 501, { headers: [['Allow', ALLOWED_METHODS.join(', ')]] });
        return;
      }
      const unsupported = request.headers
        .getAll('require')
        .map((tag) => tag.trim())
        .filter((tag) => tag && !SUPPORTED.includes(tag));
      if (unsupported.length > 0 && method !== 'CANCEL' && method !== 'ACK') {
        this.respond(tx, 420, { headers: [['Unsupported', unsupported.join(', ')]] });
        return;
      }
      if (request.to.tag !== undefined) {
        const usage = this.#dialogFor(request);
        if (usage) {
          usage.onRequest(request, tx);
          return;
        }
        // RFC 3261 §12.2.2: a request for a dialog we do not know.
        this.respond(tx, 481);
        return;
      }
      switch (method) {
        case 'INVITE':
          if (!this.#invite) {
            this.respond(tx, 480, { reason: 'No Service' });
            return;
          }
          this.#invite(request, tx as InviteServerTransaction);
          return;
        case 'REGISTER':
          if (!this.#register) {
            this.respond(tx, 405, {
              headers: [['Allow', ALLOWED_METHODS.filter((m) => m !== 'REGISTER').join(', ')]],
            });
            return;
          }
          this.#register(request, tx);
          return;
        case 'OPTIONS':
          if (this.#unavailable) {
            this.respond(tx, 503, { headers: this.#unavailable });
            return;
          }
          // Keep-alives and capability queries (§11.2).
          this.respond(tx, 200, {
            headers: [
              ['Allow', ALLOWED_METHODS.join(', ')],
              ['Accept', 'application/sdp'],
              ['Supported', SUPPORTED.join(', ')],
            ],
          });
          return;
        case 'BYE':
        case 'INFO':
        case 'UPDATE':
        case 'PRACK':
          this.respond(tx, 481);
          return;
        default:
          this.respond(tx, 405, { headers: [['Allow', ALLOWED_METHODS.join(', ')]] });
      }
    } catch (error) {
      this.#log.error(
        { err: error, method: request.method, callId: request.callId },
        'request handler failed',
      );
      if (tx.finalStatus === undefined) this.respond(tx, 500);
    }
  }
}
