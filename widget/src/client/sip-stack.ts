/**
 * The seam between the CallClient and sip.js: the few things the client uses,
 * typed narrowly so a unit test can fake them without a browser. The real
 * implementation (`sipjs-stack.ts`) passes these options straight to sip.js's
 * `UserAgent` and `Inviter`; their names and shapes are sip.js 0.21's.
 */

/** A SIP response as sip.js hands it to an outgoing request delegate. */
export interface SipResponse {
  readonly message: {
    readonly statusCode?: number | undefined;
    readonly reasonPhrase?: string | undefined;
    /** The message body (an SDP answer in a provisional response: early media). */
    readonly body?: string | undefined;
    getHeader(name: string): string | undefined;
  };
}

/** sip.js `OutgoingRequestDelegate`. */
export interface SipRequestDelegate {
  onTrying?(response: SipResponse): void;
  onProgress?(response: SipResponse): void;
  onAccept?(response: SipResponse): void;
  onRedirect?(response: SipResponse): void;
  onReject?(response: SipResponse): void;
}

/** sip.js `Bye` (an incoming BYE); with a delegate set, accepting it is ours to do. */
export interface SipBye {
  readonly request: { getHeader(name: string): string | undefined };
  accept(): Promise<void>;
}

/** sip.js `Body`. */
export interface SipBody {
  readonly contentDisposition: string;
  readonly contentType: string;
  readonly content: string;
}

/** The sip.js `UserAgentOptions` the client sets. */
export interface SipUserAgentOptions {
  readonly transportOptions: { readonly server: string; readonly connectionTimeout?: number };
  readonly sessionDescriptionHandlerFactoryOptions: {
    readonly peerConnectionConfiguration: RTCConfiguration;
    readonly iceGatheringTimeout: number;
  };
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug';
  readonly userAgentString?: string;
  readonly delegate: { onDisconnect(error?: Error): void };
}

/** sip.js `SessionDescriptionHandlerOptions` of the Web platform. */
export interface SipMediaOptions {
  readonly constraints: MediaStreamConstraints;
  readonly dataChannel: boolean;
  readonly dataChannelLabel: string;
  readonly iceGatheringTimeout: number;
  readonly onDataChannel: (channel: RTCDataChannel) => void;
}

/** The sip.js `InviterOptions` the client sets. */
export interface SipInviterOptions {
  readonly extraHeaders: string[];
  readonly sessionDescriptionHandlerOptions: SipMediaOptions;
  readonly delegate: { onBye(bye: SipBye): void };
  /** Apply the first provisional response's answer at once (`early-media.ts`). */
  readonly earlyMedia?: boolean;
}

/**
 * sip.js `SessionState` values (a string enum there; compared as strings here
 * so this module needs no runtime import of sip.js).
 */
export type SipSessionState =
  'Initial' | 'Establishing' | 'Established' | 'Terminating' | 'Terminated';

/** One outgoing call: sip.js `Inviter`. */
export interface SipSession {
  readonly state: SipSessionState;
  onStateChange(listener: (state: SipSessionState) => void): void;
  invite(options: { readonly requestDelegate: SipRequestDelegate }): Promise<unknown>;
  cancel(): Promise<void>;
  bye(): Promise<unknown>;
  info(options: { readonly requestOptions: { readonly body: SipBody } }): Promise<unknown>;
  /** The remote audio (the Web SessionDescriptionHandler's `remoteMediaStream`). */
  remoteStream(): MediaStream | undefined;
  /** The call's peer connection, once the session has one. */
  peerConnection(): RTCPeerConnection | undefined;
  /** A re-INVITE with new ICE credentials (an ICE restart, after a network change). */
  restartIce(): Promise<unknown>;
  /**
   * The re-INVITE that rebinds the call to a new WebSocket: `X-Parley-Rebind`
   * carries the key of the gateway's 200 OK; an ICE restart too when asked.
   * Resolves with the final response (rejects when it could not be sent).
   */
  rebind(options: { readonly key: string; readonly iceRestart: boolean }): Promise<SipFinal>;
}

/** A final response's status and Reason header. */
export interface SipFinal {
  readonly statusCode: number;
  readonly reason: string | undefined;
}

/** sip.js `UserAgent`, plus a factory of its Inviters. */
export interface SipUserAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Opens the WebSocket again after it dropped; sessions and dialogs stay (sip.js `reconnect()`). */
  reconnect(): Promise<void>;
  /** `new Inviter(userAgent, UserAgent.makeURI(target), options)`; throws on a bad URI. */
  invite(target: string, options: SipInviterOptions): SipSession;
}

export interface SipStack {
  /**
   * A user agent whose sessions take their microphone from `microphone` (the
   * visitor's one grant, asked for at the click while the WebSocket opens), so
   * the browser asks only once and the offer waits for the grant.
   */
  createUserAgent(
    options: SipUserAgentOptions,
    microphone: () => Promise<MediaStream>,
  ): SipUserAgent;
  /**
   * A call looks likely (hover, focus): run the stack's code once, with nothing
   * sent, so the click does not pay for compiling it.
   */
  warm(): void;
}
