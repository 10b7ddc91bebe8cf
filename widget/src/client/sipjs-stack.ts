/**
 * The SipStack on sip.js 0.21 (the only file of the widget that imports
 * sip.js at run time). Two things it adds to sip.js's Web platform:
 *
 * - the microphone: a `MediaStreamFactory` that returns the stream the visitor
 *   already granted instead of calling `getUserMedia` again (sip.js's default,
 *   `media-stream-factory-default.js`, asks for a new one on every session);
 * - short ICE gathering: the gateway is ICE-lite and learns the browser's
 *   address from its connectivity checks, so the offer needs no complete
 *   candidate list. Gathering ends on the first candidate (sip.js's
 *   `iceGatheringComplete()`), and at the latest after `iceGatheringTimeout`
 *   (sip.js's default factory would wait up to 5 s).
 */
import { Inviter, UserAgent, Web, type UserAgentOptions } from 'sip.js';
import { REBIND_HEADER } from './defaults.js';
import type { SipFinal, SipSession, SipSessionState, SipStack, SipUserAgent } from './sip-stack.js';

export interface SipJsStackOptions {
  /** Replaces the WebSocket transport (tests drive sip.js with a fake one). */
  readonly transportConstructor?: UserAgentOptions['transportConstructor'];
  /** Replaces the Web SessionDescriptionHandler (tests run without WebRTC). */
  readonly sessionDescriptionHandlerFactory?: UserAgentOptions['sessionDescriptionHandlerFactory'];
}

/**
 * Runs sip.js's code once, with nothing sent. Chromium compiles a function the
 * first time it runs, and sip.js's first UserAgent and Inviter run a lot of it
 * (the SIP grammar's parser above all): 10-40 ms on the click's path in the
 * set-up bench, 3-13 once warmed (docs/benchmarks.md). A user agent that is
 * never started and an INVITE that is built but never sent: no WebSocket, no
 * request. Once per page: what it warms is the engine's compiled code.
 */
let warmed = false;
export function warmSipJs(): void {
  if (warmed) return;
  warmed = true;
  const userAgent = new UserAgent({
    transportOptions: { server: 'wss://parley.invalid' },
    logLevel: 'error',
  });
  const uri = UserAgent.makeURI('sip:warm@parley.invalid');
  if (uri) void new Inviter(userAgent, uri, { extraHeaders: ['Authorization: Bearer warm'] });
}

export function createSipJsStack(overrides: SipJsStackOptions = {}): SipStack {
  return {
    warm: warmSipJs,
    createUserAgent(options, microphone): SipUserAgent {
      const userAgent = new UserAgent({
        ...options,
        sessionDescriptionHandlerFactory:
          overrides.sessionDescriptionHandlerFactory ?? grantedMicrophoneFactory(microphone),
        ...(overrides.transportConstructor
          ? { transportConstructor: overrides.transportConstructor }
          : {}),
      });
      return {
        start: () => userAgent.start(),
        stop: () => userAgent.stop(),
        reconnect: () => userAgent.reconnect(),
        invite(target, inviterOptions): SipSession {
          const uri = UserAgent.makeURI(target);
          if (!uri) throw new TypeError(`not a SIP URI: ${target}`);
          return wrapInviter(new Inviter(userAgent, uri, inviterOptions));
        },
      };
    },
  };
}

function wrapInviter(inviter: Inviter): SipSession {
  return {
    get state() {
      return String(inviter.state) as SipSessionState;
    },
    onStateChange(listener) {
      inviter.stateChange.addListener((state) => listener(String(state) as SipSessionState));
    },
    invite: (options) => inviter.invite(options),
    cancel: () => inviter.cancel(),
    bye: () => inviter.bye(),
    info: (options) => inviter.info(options),
    remoteStream() {
      const handler = inviter.sessionDescriptionHandler;
      return handler instanceof Web.SessionDescriptionHandler
        ? handler.remoteMediaStream
        : undefined;
    },
    peerConnection() {
      const handler = inviter.sessionDescriptionHandler;
      return handler instanceof Web.SessionDescriptionHandler ? handler.peerConnection : undefined;
    },
    restartIce() {
      const options: Web.SessionDescriptionHandlerOptions = { offerOptions: { iceRestart: true } };
      return inviter.invite({ sessionDescriptionHandlerOptions: options });
    },
    rebind({ key, iceRestart }) {
      return new Promise<SipFinal>((resolve, reject) => {
        const final = (response: {
          message: { statusCode?: number; getHeader(name: string): string | undefined };
        }): void =>
          resolve({
            statusCode: response.message.statusCode ?? 0,
            reason: response.message.getHeader('Reason'),
          });
        const media: Web.SessionDescriptionHandlerOptions = {
          offerOptions: { iceRestart },
        };
        inviter
          .invite({
            requestOptions: { extraHeaders: [`${REBIND_HEADER}: ${key}`] },
            requestDelegate: { onAccept: final, onReject: final },
            sessionDescriptionHandlerOptions: media,
          })
          .catch(reject);
      });
    },
  };
}

/**
 * sip.js's Web SessionDescriptionHandler, fed the granted microphone, ending
 * ICE gathering early. `microphone` is the stream itself (the widget's one
 * call) or a function giving the stream of the session being set up (the
 * desk's softphone, which asks for the microphone when the agent answers).
 */
export function grantedMicrophoneFactory(
  microphone: MediaStream | (() => Promise<MediaStream>),
): NonNullable<UserAgentOptions['sessionDescriptionHandlerFactory']> {
  const stream = typeof microphone === 'function' ? microphone : () => Promise.resolve(microphone);
  const base = Web.defaultSessionDescriptionHandlerFactory(stream);
  return (session, options) => {
    const handler = base(session, options);
    if (handler instanceof Web.SessionDescriptionHandler) {
      handler.peerConnectionDelegate = {
        onicecandidate: (event) => {
          if (event.candidate) handler.iceGatheringComplete();
        },
      };
    }
    return handler;
  };
}
