/**
 * Which connection a visitor's leg belongs to, and whether another one may
 * take it over (`rebind.ts`). A browser's connection is its WebSocket to us,
 * or, behind Kamailio, its WebSocket to Kamailio (named by the proxy:
 * `sip/transport/edge.ts`); the leg's requests on another connection are a
 * reconnect, which must carry the rebind key and come from the same page.
 * While the connection is lost, a timer runs out the grace.
 */
import { clientOf, type Flow, type SipRequest } from '../sip/index.js';
import { REBIND_HEADER, newRebindKey, sameRebindKey } from './rebind.js';

/** What a request on the leg's dialog is, by its connection. */
export type ConnectionCheck =
  /** On the leg's connection (or a SIP phone's, which may use any). */
  | { readonly kind: 'same' }
  /** A reconnect with the key from the page: the leg is now on `to`. */
  | {
      readonly kind: 'rebound';
      readonly from: string;
      readonly to: string;
      /** Connection lost → rebound, when the loss was seen. */
      readonly gapMs: number | undefined;
    }
  /** Another connection without this leg's key, or from another page. */
  | { readonly kind: 'refused'; readonly connection: string };

export class VisitorConnection {
  /**
   * A browser over WebSocket (to us, or to the edge proxy when it names the
   * connection): the key sent in the 200 OK that rebinds the call to a new
   * connection; undefined for others (their calls end with the connection).
   */
  readonly rebindKey: string | undefined;
  #id: string;
  /** The Origin of the page whose connection made the call (a reconnect must come from it). */
  readonly #origin: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lostAt: number | undefined;

  constructor(invite: SipRequest, flow: Flow, webrtc: boolean) {
    const client = clientOf(invite, flow);
    this.#id = client.connection;
    this.#origin = client.origin;
    // Behind a proxy that did not name the connection, a reconnect could not be
    // told from the proxy's other clients: no key.
    const named = !client.viaEdge || client.connection !== flow.id;
    this.rebindKey =
      webrtc && named && (client.protocol === 'WS' || client.protocol === 'WSS')
        ? newRebindKey()
        : undefined;
  }

  /** The connection's id (`clientOf(…).connection`), as a closing names it. */
  get id(): string {
    return this.#id;
  }

  /** Lost, and waited for. */
  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Waits `graceMs` for a reconnect, then calls `expired`. False when this
   * connection cannot come back (no key, no grace); true when already waiting.
   */
  wait(graceMs: number, expired: () => void): boolean {
    if (graceMs <= 0 || this.rebindKey === undefined) return false;
    if (this.#timer) return true;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      expired();
    }, graceMs);
    this.#timer.unref();
    this.#lostAt = performance.now();
    return true;
  }

  /** Checks a request on the leg's dialog; a rebind moves the leg to its connection. */
  check(request: SipRequest, flow: Flow): ConnectionCheck {
    const client = clientOf(request, flow);
    if (client.connection === this.#id) return { kind: 'same' };
    const key = this.rebindKey;
    if (key === undefined) return { kind: 'same' }; // a SIP phone's requests may come over any flow
    const origin = this.#origin;
    if (
      !sameRebindKey(key, request.headers.get(REBIND_HEADER)) ||
      (origin !== undefined && client.origin !== origin)
    )
      return { kind: 'refused', connection: client.connection };
    const from = this.#id;
    this.#id = client.connection;
    this.stop();
    const gapMs = this.#lostAt === undefined ? undefined : performance.now() - this.#lostAt;
    this.#lostAt = undefined;
    return { kind: 'rebound', from, to: client.connection, gapMs };
  }

  /** No more waiting (the leg ended, or came back). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
