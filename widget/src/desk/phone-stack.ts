/**
 * The seam between the desk's Softphone and sip.js: a registered user agent
 * that receives calls. Typed narrowly so unit tests fake it without a browser;
 * `sipjs-phone-stack.ts` implements it on sip.js 0.21 (`UserAgent`,
 * `Registerer`, `Invitation`), whose option names and shapes these are.
 */
import type { SipSessionState } from '../client/sip-stack.js';

export type { SipSessionState };

/** sip.js `RegistererState`. */
export type RegistrationState = 'Initial' | 'Registered' | 'Unregistered' | 'Terminated';

/** The sip.js `UserAgentOptions` the softphone sets. */
export interface PhoneUserAgentOptions {
  /** `sip:<username>@<domain>`: the address of record. */
  readonly uri: string;
  readonly authorizationUsername: string;
  readonly authorizationPassword: string;
  readonly displayName?: string;
  readonly transportOptions: { readonly server: string; readonly connectionTimeout?: number };
  readonly sessionDescriptionHandlerFactoryOptions: {
    readonly peerConnectionConfiguration: RTCConfiguration;
    readonly iceGatheringTimeout: number;
  };
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug';
  readonly userAgentString?: string;
  readonly delegate: {
    onInvite(invitation: PhoneInvitation): void;
    onDisconnect(error?: Error): void;
  };
}

/** sip.js `InvitationAcceptOptions` (Web platform). */
export interface PhoneAcceptOptions {
  /** Headers of the 200 OK (a resident device's `X-Parley-Device-Ticket`). */
  readonly extraHeaders?: readonly string[];
  readonly sessionDescriptionHandlerOptions: {
    readonly constraints: MediaStreamConstraints;
    readonly iceGatheringTimeout: number;
  };
}

/** A final SIP response to the REGISTER (what the registerer's request delegate hears). */
export interface RegisterResponse {
  readonly statusCode: number | undefined;
  readonly reasonPhrase: string | undefined;
}

/** An incoming call: sip.js `Invitation`. */
export interface PhoneInvitation {
  /** A header of the INVITE (`invitation.request.getHeader`). */
  header(name: string): string | undefined;
  /** The display name of the INVITE's From (`invitation.remoteIdentity.displayName`), if any. */
  remoteDisplayName(): string | undefined;
  readonly state: SipSessionState;
  onStateChange(listener: (state: SipSessionState) => void): void;
  /** 200 OK with our answer; the microphone comes from the stack's provider. */
  accept(options: PhoneAcceptOptions): Promise<void>;
  /** A final refusal (sip.js's default status is 480; the desk sends 486). */
  reject(options: { readonly statusCode: number }): Promise<void>;
  bye(): Promise<unknown>;
  /** The remote audio (Web SessionDescriptionHandler `remoteMediaStream`), once answered. */
  remoteStream(): MediaStream | undefined;
  /** Enables or disables the tracks we send and receive (`enableSenderTracks`, `enableReceiverTracks`). */
  setTracks(send: boolean, receive: boolean): void;
}

/** sip.js `UserAgent` with its `Registerer`. */
export interface PhoneUserAgent {
  /** Connects the WebSocket. */
  start(): Promise<void>;
  /** Reconnects the WebSocket after a drop. */
  reconnect(): Promise<void>;
  /** Unregisters (best effort) and closes the WebSocket. */
  stop(): Promise<void>;
  /** Sends REGISTER (digest authentication is sip.js's); the delegate hears the final answer. */
  register(delegate: {
    onAccept(): void;
    onReject(response: RegisterResponse): void;
  }): Promise<void>;
  onRegistrationChange(listener: (state: RegistrationState) => void): void;
}

export interface PhoneStack {
  /**
   * A user agent whose sessions take their microphone from `microphone`,
   * called when a call is being answered.
   */
  createUserAgent(
    options: PhoneUserAgentOptions,
    microphone: () => Promise<MediaStream>,
  ): PhoneUserAgent;
}
