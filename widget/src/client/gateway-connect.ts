/**
 * The gateway's half of an attempt's set-up: the call token (fetched ahead on
 * hover when it could be, `token-prefetch.ts`), the user agent and its
 * WebSocket (opened on hover too when it could be, `warm-connection.ts`). It starts at the click beside the microphone prompt, so the
 * WebSocket's handshake and the visitor's grant overlap (issue 15: ringing
 * within a blink); the INVITE waits for both (`call-client.ts`). A failure
 * here is reported at once, even while the prompt is still up; what it opened
 * is released by the attempt, and a grant that comes after is stopped.
 */
import type { CallClientOptions } from '../api/call-stack.js';
import type { Attempt } from './attempt.js';
import type { CallTokenResult } from './call-token.js';
import { tokenRequest, userAgentOptions } from './call-request.js';
import { connectionConfig } from './connection-config.js';
import { CONNECT_TIMEOUT_MS } from './defaults.js';
import { describe, type Failure } from './failure.js';
import type { SipStack, SipUserAgent } from './sip-stack.js';
import { withTimeout } from './timeout.js';
import type { TokenPrefetch } from './token-prefetch.js';
import type { WarmConnection } from './warm-connection.js';

export interface GatewayConnectInput {
  readonly options: CallClientOptions;
  readonly baseUrl: string;
  readonly sip: SipStack;
  readonly tokens: TokenPrefetch;
  readonly warm: WarmConnection;
  /** The visitor's grant, asked for at the click: the offer waits for it. */
  readonly microphone: () => Promise<MediaStream>;
  /** The WebSocket dropped (`network-recovery.ts`). */
  readonly onDisconnect: (error?: Error) => void;
  readonly fail: (attempt: Attempt, failure: Failure) => void;
}

/** The call token for the INVITE and the user agent whose WebSocket is open. */
export interface GatewayConnection {
  readonly token: string;
  readonly userAgent: SipUserAgent;
}

/**
 * Token, user agent, WebSocket open; undefined when the attempt failed
 * (reported through `fail`) or ended.
 */
export async function connectGateway(
  attempt: Attempt,
  input: GatewayConnectInput,
): Promise<GatewayConnection | undefined> {
  const request = tokenRequest(input.options, input.baseUrl);
  if (!request) return undefined; // checked by the caller
  let token: CallTokenResult;
  try {
    token = await input.tokens.take(request, attempt.abort.signal);
  } catch {
    return undefined; // aborted by hangup()
  }
  if (attempt.over) return undefined;
  if (!token.ok) {
    input.fail(attempt, token);
    return undefined;
  }
  const config = connectionConfig(input.options.gateway, token.gateway, input.baseUrl);
  if (!config.ok) {
    input.fail(attempt, {
      code: 'invalid_config',
      message: describe('invalid_config', config.detail),
    });
    return undefined;
  }
  // The WebSocket opened ahead on hover (`warm-connection.ts`), else one now
  // (no REGISTER: the visitor only calls out).
  const hooks = { microphone: input.microphone, onDisconnect: input.onDisconnect };
  const warm = input.warm.take(config, hooks);
  const userAgent =
    warm?.userAgent ??
    input.sip.createUserAgent(userAgentOptions(config, hooks.onDisconnect), hooks.microphone);
  attempt.userAgent = userAgent;
  try {
    await opened(warm?.started ?? userAgent.start());
  } catch (error) {
    input.fail(attempt, {
      code: 'gateway_unreachable',
      message: describe('gateway_unreachable', error),
    });
    return undefined;
  }
  return attempt.over ? undefined : { token: token.token, userAgent };
}

/**
 * The WebSocket opened, then closed before the INVITE (the visitor was still
 * at the microphone prompt, the warm one was handed over and dropped): opened
 * again once, else `network_lost`. True when the INVITE may go.
 */
export async function reopenIfDropped(
  attempt: Attempt,
  userAgent: SipUserAgent,
  fail: (attempt: Attempt, failure: Failure) => void,
): Promise<boolean> {
  if (!attempt.droppedEarly) return true;
  attempt.droppedEarly = false;
  try {
    await opened(userAgent.reconnect());
  } catch (error) {
    fail(attempt, { code: 'network_lost', message: describe('network_lost', error) });
    return false;
  }
  if (attempt.over) return false;
  if (attempt.droppedEarly) {
    fail(attempt, { code: 'network_lost', message: describe('network_lost', 'WebSocket closed') });
    return false;
  }
  return true;
}

/** The WebSocket's opening, bounded by CONNECT_TIMEOUT_MS. */
function opened(opening: Promise<void>): Promise<void> {
  return withTimeout(
    opening,
    CONNECT_TIMEOUT_MS,
    `no WebSocket connection in ${CONNECT_TIMEOUT_MS / 1000} s`,
  );
}
