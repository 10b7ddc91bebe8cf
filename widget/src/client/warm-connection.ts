/**
 * The gateway's WebSocket opened ahead (issue 15 item 4: warm what can be
 * warmed before the click): once a prefetched token says which gateway a call
 * would go to, a user agent is started (a WebSocket, no REGISTER, nothing
 * sent), so the click's INVITE does not wait for the TCP and WebSocket
 * handshakes. It is handed to one call, for the same gateway and ICE servers
 * only; one nobody took is closed after {@link WARM_CONNECTION_MS}, and one
 * whose WebSocket dropped is dropped (the click opens its own).
 *
 * The user agent is made before the call that will use it exists, so what a
 * call gives it (the microphone for the offer, the handler of a dropped
 * WebSocket) goes through hooks the call sets when it takes it.
 */
import type { ConnectionConfig } from './connection-config.js';
import { userAgentOptions } from './call-request.js';
import type { SipStack, SipUserAgent } from './sip-stack.js';

/** How long a WebSocket opened ahead waits for the click before it is closed. */
export const WARM_CONNECTION_MS = 30_000;

type Config = Extract<ConnectionConfig, { ok: true }>;

/** What a call gives the user agent it takes. */
export interface CallHooks {
  readonly microphone: () => Promise<MediaStream>;
  readonly onDisconnect: (error?: Error) => void;
}

interface Held {
  readonly key: string;
  readonly userAgent: SipUserAgent;
  /** start() of the WebSocket: settled once it opened or failed. */
  readonly started: Promise<void>;
  readonly link: { hooks?: CallHooks };
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A user agent handed to a call, and its WebSocket's opening (maybe done already). */
export interface TakenConnection {
  readonly userAgent: SipUserAgent;
  readonly started: Promise<void>;
}

export class WarmConnection {
  readonly #sip: SipStack;
  #held: Held | undefined;

  constructor(sip: SipStack) {
    this.#sip = sip;
  }

  /** Opens a WebSocket to `config`'s gateway, unless one is open or opening for it. */
  open(config: Config): void {
    const key = keyOf(config);
    if (this.#held?.key === key) return;
    this.close();
    // Set by take(): until then a dropped WebSocket drops this connection.
    const link: { hooks?: CallHooks } = {};
    const drop = (): void => {
      if (this.#held?.userAgent === userAgent) this.close();
    };
    const userAgent = this.#sip.createUserAgent(
      userAgentOptions(config, (error) => (link.hooks ? link.hooks.onDisconnect(error) : drop())),
      () =>
        link.hooks
          ? link.hooks.microphone()
          : Promise.reject(new Error('no call has taken this connection')),
    );
    const started = userAgent.start();
    started.catch(drop);
    this.#held = { key, userAgent, started, link, timer: setTimeout(drop, WARM_CONNECTION_MS) };
  }

  /**
   * The WebSocket opened ahead for `config`, handed out once with the call's
   * hooks; undefined when there is none for it (another gateway or other ICE
   * servers: that one is closed).
   */
  take(config: Config, hooks: CallHooks): TakenConnection | undefined {
    const held = this.#held;
    if (!held) return undefined;
    if (held.key !== keyOf(config)) {
      this.close();
      return undefined;
    }
    this.#held = undefined;
    clearTimeout(held.timer);
    held.link.hooks = hooks;
    return { userAgent: held.userAgent, started: held.started };
  }

  /** Closes the WebSocket opened ahead, if any. */
  close(): void {
    const held = this.#held;
    this.#held = undefined;
    if (!held) return;
    clearTimeout(held.timer);
    held.userAgent.stop().catch(() => undefined);
  }
}

function keyOf(config: Config): string {
  return JSON.stringify([config.server, config.iceServers, config.relayOnly]);
}
