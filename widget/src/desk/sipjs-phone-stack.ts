/**
 * The PhoneStack on sip.js 0.21: a `UserAgent` with one `Registerer`, handing
 * incoming `Invitation`s to the softphone. The desk's only file that imports
 * sip.js at run time. Media comes from the widget's handler factory
 * (`../client/sipjs-stack.ts`): sip.js's Web SessionDescriptionHandler with our
 * microphone and ICE gathering ended on the first candidate.
 *
 * sip.js details this relies on:
 * - digest authentication of REGISTER is sip.js's own, and MD5 only
 *   (`core/messages/digest-authentication.js`): the gateway must challenge
 *   desk agents with MD5;
 * - with `delegate.onInvite` set, sip.js sends 100 Trying and 180 Ringing
 *   itself before handing us the Invitation (`api/user-agent.js`);
 * - `Invitation.reject()` without options sends 480, not 486;
 * - `UserAgent.stop()` unregisters gracefully and waits for the answer, which
 *   never comes over a dead WebSocket: stop() here waits at most STOP_WAIT_MS.
 */
import type { Invitation } from 'sip.js';
import { Registerer, RegistererState, UserAgent, Web, type UserAgentOptions } from 'sip.js';
import type { SipSessionState } from '../client/sip-stack.js';
import { grantedMicrophoneFactory } from '../client/sipjs-stack.js';
import { REGISTER_EXPIRES_SECONDS } from './defaults.js';
import type {
  PhoneInvitation,
  PhoneStack,
  PhoneUserAgent,
  RegistrationState,
} from './phone-stack.js';

const STOP_WAIT_MS = 2000;

export interface SipJsPhoneStackOptions {
  /** Replaces the WebSocket transport (tests drive sip.js with an in-memory one). */
  readonly transportConstructor?: UserAgentOptions['transportConstructor'];
  /** Replaces the Web SessionDescriptionHandler (tests run without WebRTC). */
  readonly sessionDescriptionHandlerFactory?: UserAgentOptions['sessionDescriptionHandlerFactory'];
}

export function createSipJsPhoneStack(overrides: SipJsPhoneStackOptions = {}): PhoneStack {
  return {
    createUserAgent(options, microphone): PhoneUserAgent {
      const uri = UserAgent.makeURI(options.uri);
      if (!uri) throw new TypeError(`not a SIP URI: ${options.uri}`);
      const userAgent = new UserAgent({
        ...options,
        uri,
        delegate: {
          onInvite: (invitation) => options.delegate.onInvite(wrapInvitation(invitation)),
          onDisconnect: (error) => options.delegate.onDisconnect(error),
        },
        sessionDescriptionHandlerFactory:
          overrides.sessionDescriptionHandlerFactory ?? grantedMicrophoneFactory(microphone),
        ...(overrides.transportConstructor
          ? { transportConstructor: overrides.transportConstructor }
          : {}),
      });
      const registerer = new Registerer(userAgent, { expires: REGISTER_EXPIRES_SECONDS });
      return {
        start: () => userAgent.start(),
        reconnect: () => userAgent.reconnect(),
        async stop() {
          const stopped = (async () => {
            if (registerer.state === RegistererState.Registered)
              await registerer.unregister().catch(() => undefined);
            await userAgent.stop();
          })();
          await Promise.race([stopped.catch(() => undefined), delay(STOP_WAIT_MS)]);
        },
        async register(delegate) {
          await registerer.register({
            requestDelegate: {
              onAccept: () => delegate.onAccept(),
              onReject: (response) =>
                delegate.onReject({
                  statusCode: response.message.statusCode,
                  reasonPhrase: response.message.reasonPhrase,
                }),
            },
          });
        },
        onRegistrationChange(listener) {
          registerer.stateChange.addListener((state) =>
            listener(String(state) as RegistrationState),
          );
        },
      };
    },
  };
}

function wrapInvitation(invitation: Invitation): PhoneInvitation {
  const handler = (): Web.SessionDescriptionHandler | undefined => {
    const sdh = invitation.sessionDescriptionHandler;
    return sdh instanceof Web.SessionDescriptionHandler ? sdh : undefined;
  };
  return {
    header: (name) => invitation.request.getHeader(name),
    remoteDisplayName: () => invitation.remoteIdentity.displayName || undefined,
    get state() {
      return String(invitation.state) as SipSessionState;
    },
    onStateChange(listener) {
      invitation.stateChange.addListener((state) => listener(String(state) as SipSessionState));
    },
    accept: ({ extraHeaders, ...options }) =>
      invitation.accept({
        ...options,
        ...(extraHeaders ? { extraHeaders: [...extraHeaders] } : {}),
      }),
    reject: (options) => invitation.reject(options),
    bye: () => invitation.bye(),
    remoteStream: () => handler()?.remoteMediaStream,
    setTracks(send, receive) {
      const sdh = handler();
      if (!sdh?.peerConnection) return;
      sdh.enableSenderTracks(send);
      sdh.enableReceiverTracks(receive);
    },
  };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
