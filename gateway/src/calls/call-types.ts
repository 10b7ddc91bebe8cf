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
  readonly mediaInactivityMs: number;
  readonly onOutcome?: (record: CallRecord) => void;
  readonly now?: () => number;
}

/** How the gateway answers the caller's leg itself, before any agent does. */
export interface CallerAnswer {
  /** The codec, by name, of the caller's offer (`PCMU` for a browser a flow plays prompts to). */
  readonly codec: string;
  /** 183 with SDP (early media) instead of 200. */
  readonly early?: boolean;
}

export interface CallInit {
  readonly invite: SipRequest;
  readonly tx: InviteServerTransaction;
  readonly flow: Flow;
  readonly token: VerifiedCallToken;
  readonly queue: string;
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
}
