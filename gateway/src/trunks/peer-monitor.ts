/**
 * OPTIONS keep-alive to one carrier peer (RFC 3261 §11: OPTIONS is answered as
 * an INVITE would be, so any answer proves the peer is there). A peer that
 * misses `failuresBeforeDown` probes in a row is marked down and skipped by
 * the dialer; the first answer after that marks it up again. An answer counts
 * when its status is below 500 or in the 6xx class: a 404 or 405 to OPTIONS
 * still comes from a live peer, while a 5xx says it cannot take calls now.
 */
import { EventEmitter } from 'node:events';
import {
  SipRequest,
  generateCallId,
  generateTag,
  type SipResponse,
  type SipStack,
  type Target,
} from '../sip/index.js';
import type { Logger } from '../observability/index.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
}

export interface PeerMonitorOptions {
  readonly stack: SipStack;
  readonly peer: PeerAddress;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failuresBeforeDown: number;
  readonly logger: Logger;
}

export interface PeerMonitorEvents {
  up: [];
  down: [reason: string];
  /** Every probe's result: its round trip when answered. */
  probe: [result: { readonly ok: boolean; readonly rttMs?: number; readonly status?: number }];
}

export class PeerMonitor extends EventEmitter<PeerMonitorEvents> {
  readonly #options: PeerMonitorOptions;
  readonly #tag = generateTag();
  #up = true;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: { terminate(): void } | undefined;
  #closed = false;

  constructor(options: PeerMonitorOptions) {
    super();
    this.#options = options;
  }

  /** Up until it fails `failuresBeforeDown` probes in a row (a new peer is given the benefit of the doubt). */
  get up(): boolean {
    return this.#up;
  }

  /** Sends the first probe now, then one every interval after each answer or failure. */
  start(): void {
    if (this.#closed || this.#timer || this.#inFlight) return;
    this.#probe();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.terminate();
    this.#inFlight = undefined;
  }

  #probe(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const { stack, peer } = this.#options;
    const protocol = peer.transport === 'tcp' ? 'TCP' : 'UDP';
    const target: Target = {
      protocol,
      address: peer.host.replace(/^\[|\]$/g, ''),
      port: peer.port,
    };
    let settled = false;
    const started = performance.now();
    const settle = (ok: boolean, reason: string, status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.#inFlight?.terminate();
      this.#inFlight = undefined;
      if (ok) this.#answered(performance.now() - started, status);
      else this.#failed(reason);
      if (!this.#closed) {
        this.#timer = setTimeout(() => this.#probe(), this.#options.intervalMs);
        this.#timer.unref();
      }
    };
    const deadline = setTimeout(
      () => settle(false, `no answer in ${this.#options.timeoutMs} ms`),
      this.#options.timeoutMs,
    );
    deadline.unref();
    try {
      const request = this.#request(protocol);
      const tx = stack.transactions.request(request, target);
      this.#inFlight = tx;
      tx.on('response', (response: SipResponse) => {
        if (response.status < 200) return;
        const alive = response.status < 500 || response.status >= 600;
        settle(alive, `answered ${response.status}`, response.status);
      });
      tx.on('timeout', () => settle(false, 'transaction timeout'));
      tx.on('transportError', (error) => settle(false, `transport error: ${error.message}`));
    } catch (error) {
      // No listener for this transport, an unresolvable host: the peer is unreachable.
      queueMicrotask(() => settle(false, `cannot send: ${(error as Error).message}`));
    }
  }

  #request(protocol: 'UDP' | 'TCP'): SipRequest {
    const { stack, peer } = this.#options;
    const local = stack.transport.sentBy(protocol);
    const host =
      peer.host.includes(':') && !peer.host.startsWith('[') ? `[${peer.host}]` : peer.host;
    const params = protocol === 'TCP' ? ';transport=tcp' : '';
    return new SipRequest({
      method: 'OPTIONS',
      requestUri: `sip:${host}:${peer.port}${params}`,
      headers: [
        ['From', `<sip:parley@${local.host}:${local.port}>;tag=${this.#tag}`],
        ['To', `<sip:${host}:${peer.port}>`],
        // A request outside a dialog gets a new Call-ID (RFC 3261 §8.1.1.4): a peer that
        // keeps an answered call's id for a while (sipp's dead calls, 33 s) would swallow
        // the next probe as a retransmission, and one answer that came late kept it down.
        ['Call-ID', generateCallId()],
        ['CSeq', '1 OPTIONS'],
        ['Contact', `<${stack.transport.contactUri(protocol, 'parley')}>`],
        ['Accept', 'application/sdp'],
        ['User-Agent', stack.userAgent],
      ],
    });
  }

  #answered(rttMs: number, status: number | undefined): void {
    this.#failures = 0;
    this.emit('probe', { ok: true, rttMs, ...(status === undefined ? {} : { status }) });
    if (!this.#up) {
      this.#up = true;
      this.emit('up');
    }
  }

  #failed(reason: string): void {
    this.#failures += 1;
    this.emit('probe', { ok: false });
    if (this.#up && this.#failures >= this.#options.failuresBeforeDown) {
      this.#up = false;
      this.#options.logger.debug({ reason }, 'trunk peer probe failed');
      this.emit('down', reason);
    }
  }
}
