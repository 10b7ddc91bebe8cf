import type { CallTokenPublicClaims, PrivateClaims } from '@parley/shared/tokens';

export type CallState = 'routing' | 'ringing' | 'answered' | 'ended';
export type CallOutcome = 'answered' | 'cancelled' | 'busy' | 'no_answer' | 'no_agent' | 'failed';
export type CallParty = 'visitor' | 'agent' | 'gateway';
/** Who called: a browser (the widget), a SIP visitor with a token, or the telephone network (a trunk). */
export type CallChannel = 'browser' | 'sip' | 'phone';

/** One try at reaching an agent. */
export interface CallAttempt {
  readonly agentId: string;
  readonly callId: string;
  readonly startedAt: number;
  endedAt?: number;
  /** The agent's 200 OK reached the gateway (the answered attempt only). */
  answeredAt?: number;
  /** The agent's final SIP status, or 408 for our own ring timeout. */
  status?: number;
  reason?: string;
  /** How the agent was reached when not by SIP: `trunk:<id>` for a phone agent (`agents[].phone`). */
  via?: string;
}

/**
 * An answered leg's SIP dialog (RFC 3261 §12), kept so that a gateway that
 * stopped without ending its calls (a crash, a kill) can still send the BYE at
 * its next start: everything a request within the dialog needs.
 */
export interface StoredDialog {
  /** Which leg: `caller`, or `agent:<id>`. */
  readonly leg: string;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From (as UAC) or To (as UAS) without its tag, as a name-addr. */
  readonly local: string;
  readonly remote: string;
  readonly remoteTarget: string;
  readonly routeSet: readonly string[];
  /** Our last CSeq number in the dialog. */
  readonly localSeq: number;
  readonly localContact: string;
  /** The connection the peer was reached over, as the gateway saw it (its address and port). */
  readonly transport: {
    readonly protocol: string;
    readonly address: string;
    readonly port: number;
  } | null;
}

/** A call a stopped gateway left open, closed at the next start, and the dialogs to end. */
export interface InterruptedCall {
  readonly id: string;
  readonly dialogs: readonly StoredDialog[];
}

/** The stored record of a call: both legs, the session, timing and how it ended. */
export interface CallRecord {
  readonly id: string;
  readonly tenant: string;
  readonly sessionId: string;
  readonly sessionNumber: string;
  readonly numberFallback: boolean;
  /** The customer id from the token's private claims, when the company gave one. */
  readonly customerId: string | null;
  readonly queue: string | null;
  readonly origin: string;
  readonly visitorCallId: string;
  readonly visitorTransport: string;
  readonly visitorSource: string;
  /** The caller's side. */
  readonly channel: CallChannel;
  /** A call from the telephone network: the trunk it came through (`trunks.<id>`). */
  readonly trunk: string | null;
  /** A trunk call: the DID called (E.164). */
  readonly called: string | null;
  /** A trunk call: the caller's number (E.164), null when anonymous or withheld. */
  readonly callerNumber: string | null;
  /** The flow the call started with (a DID's), if any; later flows are in its flow events. */
  flow: string | null;
  agentCallId: string | null;
  agentId: string | null;
  state: CallState;
  outcome: CallOutcome | null;
  endedBy: CallParty | null;
  /** The final status the visitor leg got (or 200 for answered calls). */
  sipStatus: number | null;
  /** The Parley error code or the SIP reason that ended the call. */
  reason: string | null;
  attempts: CallAttempt[];
  media: Record<string, unknown> | null;
  /** The routing decision: value, scores, algorithm, candidates. */
  routing: Record<string, unknown> | null;
  /** The dialogs of the legs that were answered (not shown by the API: they locate the parties). */
  dialogs: StoredDialog[];
  readonly createdAt: number;
  ringingAt: number | null;
  answeredAt: number | null;
  endedAt: number | null;
}

export interface SessionRecord {
  readonly tenant: string;
  readonly sessionId: string;
  readonly origin: string;
  readonly publicClaims: CallTokenPublicClaims;
  readonly privateClaims: PrivateClaims;
  readonly number: string | null;
  readonly numberFallback: boolean;
  readonly numberExpiresAt: number | null;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}
