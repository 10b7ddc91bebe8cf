/** What a call is made with (`CallDeps`, `CallInit`) and what it reports (`CallEvents`). */
import type { ErrorCode } from '@parley/shared/errors';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import type { AgentDirectory } from '../agents/index.js';
import type { MediaEngine } from '../media/index.js';
import type { SessionNumberPool } from '../numbers/index.js';
import type { Logger } from '../observability/index.js';
import type { QueueSettings, ValueService } from '../routing/index.js';
import type { Flow, InviteServerTransaction, SipRequest, SipStack } from '../sip/index.js';
import type { CallRecord, CallState, CallStore } from '../storage/index.js';
import type { Trunks } from '../trunks/index.js';
import type { EarlyAnswerPolicy } from './early-answer.js';
import type { CallLeg } from './in-dialog.js';

export interface CallDeps {
  readonly stack: SipStack;
  readonly media: MediaEngine;
  readonly agents: AgentDirectory;
  readonly numbers: SessionNumberPool;
  readonly calls: CallStore;
  readonly logger: Logger;
  readonly domain: string;
  readonly tenantName: (tenant: string) => string | undefined;
  readonly queue: (name: string) => QueueSettings;
  /** Computes the customer's value; without it, agents are tried longest-idle first. */
  readonly value?: ValueService | undefined;
  /** Answers a browser visitor early with a codec decided before agents ring (`early-answer.ts`). */
  readonly earlyAnswer?: EarlyAnswerPolicy | undefined;
  readonly mediaInactivityMs: number;
  /** The carrier trunks: agents who are telephone numbers (`agents[].phone`) are called through them. */
  readonly trunks?: Trunks | undefined;
  readonly onOutcome?: (record: CallRecord) => void;
  readonly now?: () => number;
}

/** How the gateway answers the caller's leg itself, before any agent does. */
export interface CallerAnswer {
  /** The codec, by name, of the caller's offer (`PCMU` for a browser a flow plays prompts to). */
  readonly codec: string;
  /** 183 with SDP (early media) instead of 200. */
  readonly early?: boolean;
  /**
   * With `early`: 180 with SDP instead of 183, the caller playing its own
   * ringback (RFC 3960 §3) while its media is set up (`early-answer.ts`).
   */
  readonly ringing?: boolean;
}

/**
 * A call from the telephone network (`trunks/`): what the carrier said about
 * it, and the trunk slot it holds until it ends.
 */
export interface TrunkCaller {
  /** `trunks.<id>`. */
  readonly trunk: string;
  readonly tenant: string;
  /** The DID called, E.164. */
  readonly called: string;
  /** The caller's number, E.164; null when anonymous or withheld (`Privacy: id`). */
  readonly callerNumber: string | null;
  /** The DID's flow. */
  readonly flow: string;
  /** Frees the trunk slot: called once when the call ends. */
  readonly release: () => void;
}

/**
 * What started a call: a visitor's INVITE with a call token (a browser over
 * the SIP WebSocket or a SIP visitor, for a queue) or a carrier's INVITE to
 * one of the tenant's numbers (a trunk, for the DID's flow). Exactly one of
 * `token` and `trunk`.
 */
export interface CallInit {
  readonly invite: SipRequest;
  readonly tx: InviteServerTransaction;
  readonly flow: Flow;
  /** A visitor's verified call token. */
  readonly token?: VerifiedCallToken | undefined;
  /** The queue a visitor called (the token's scope); a trunk call has none until a flow dials one. */
  readonly queue?: string | undefined;
  /** A call from the telephone network. */
  readonly trunk?: TrunkCaller | undefined;
  /** Answer the caller before ringing agents (default: answered with the agent's codec). */
  readonly answer?: CallerAnswer | undefined;
  /** Whether `start()` rings the queue's agents (default true); else `ringAgents()` does, later. */
  readonly ringAgents?: boolean | undefined;
}

export interface CallEvents {
  state: [CallState];
  ended: [CallRecord];
  /** A data-channel frame from the visitor (unchecked text; the manager validates and stores it). */
  visitorMessage: [string];
  /** The visitor's data channel opened. */
  dataChannelOpen: [];
  /** An agent's phone (or desk) started ringing for this call. */
  agentRinging: [string];
  /** An agent's phone stopped ringing without taking the call (timeout, busy, answered elsewhere, cancelled). */
  agentStopped: [string];
  /** An agent took the call. */
  answered: [string];
  /** No agent took the call and none is left to ring (the call ends too, unless `ringAgents` said otherwise). */
  agentsExhausted: [ErrorCode];
  /** The agent put the visitor on hold, or took them off it. */
  hold: [boolean];
  /** A DTMF digit (SIP INFO) from a leg joined to no other, e.g. the caller while the gateway answers it. */
  dtmf: [digit: string, leg: CallLeg];
  /** An agent a flow bridged (a `dial` or a queue's offer) hung up or was hung up; the call goes on. */
  agentLeft: [agentId: string];
  /**
   * The browser visitor's connection: closed and waited for (`waiting`), back
   * and rebound (`rebound`, with the gap in ms), a reconnect with a wrong key
   * (`refused`), or not back within the grace (`expired`).
   */
  reconnect: [outcome: VisitorReconnect, gapMs: number | undefined];
  /** The browser restarted ICE (a re-INVITE after a network change): answered or refused. */
  iceRestart: [ok: boolean];
}

export type VisitorReconnect = 'waiting' | 'rebound' | 'refused' | 'expired';
