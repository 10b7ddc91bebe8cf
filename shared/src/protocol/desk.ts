/**
 * The agent desk's wire protocol (gateway `gateway/src/desk/` ↔ widget
 * `widget/src/desk/`): the agent's presence, its SIP settings, a call's
 * context with the routing decision, call records, and the frames of the
 * events WebSocket. The gateway builds these; the desk checks them on arrival.
 */
import type { CallTokenPublicClaims, PrivateClaims } from '../tokens/index.js';
import type { CallbackContext, DeskCallbackView } from './callbacks.js';
import type { FlowEvent } from './flow-events.js';
import type { StoredMessage } from './messages.js';
import type { VoicemailEvent, VoicemailInboxEvent } from './voicemail.js';

export const AGENT_STATES = ['offline', 'away', 'wrap-up', 'available', 'ringing', 'busy'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export type Availability = 'available' | 'away';

/** The agent as the desk sees it (`presenceView` in gateway/src/desk/desk-hub.ts). */
export interface DeskAgent {
  readonly id: string;
  readonly displayName: string;
  readonly tier: string | null;
  readonly state: AgentState;
  readonly availability: Availability;
  /** A SIP phone (or this desk's softphone) is registered for the agent. */
  readonly registered: boolean;
  readonly activeCalls: number;
  /** End of the wrap-up period (ISO), while in wrap-up. */
  readonly wrapUpUntil: string | null;
  readonly queues: readonly string[];
}

/** Where the desk's softphone registers. */
export interface SipSettings {
  readonly wsUrl: string;
  readonly domain: string;
  readonly username: string;
}

/** `GET /desk/api/me`. */
export interface DeskProfile {
  readonly agent: DeskAgent;
  readonly sip: SipSettings;
}

/** One scoring provider's answer (the company's benefit or burden endpoint). */
export interface ProviderScore {
  readonly score: number;
  /** The provider failed and the configured default was used. */
  readonly fallback: boolean;
  /** Why it failed (timeout, http_503, bad_body, too_large, ...), when it did. */
  readonly error?: string | undefined;
  /** Answer time (0 from the cache). */
  readonly ms: number;
  readonly cached?: boolean;
}

/** Parley's own history of the customer, in the tenant's window. */
export interface CustomerHistory {
  readonly windowDays: number;
  readonly calls: number;
  readonly answeredCalls: number;
  readonly minutes: number;
  readonly repeatContacts: number;
}

/** An agent in the order it would be rung, with what put it there. */
export interface RoutingCandidate {
  readonly agentId: string;
  readonly agentTier?: string | null | undefined;
  /** 0 is the best band match. */
  readonly rank: number;
  readonly idleMs: number;
  readonly recentHandleSeconds?: number | null | undefined;
}

/** The routing decision stored with the call and shown on the desk: the customer's value and what made it. */
export interface RoutingDecision {
  readonly value: number;
  /** The value band (queues map bands to agent tiers). */
  readonly tier: string;
  readonly terms: Readonly<Record<string, number>>;
  readonly algorithm: {
    readonly name: string;
    readonly version: string;
    readonly error?: string | undefined;
  };
  readonly benefit: ProviderScore;
  readonly burden: ProviderScore;
  readonly history: CustomerHistory;
  readonly strategy: 'sequential' | 'simultaneous';
  readonly candidates: readonly RoutingCandidate[];
  readonly decidedInMs: number;
}

export interface PreviousCall {
  readonly id: string;
  readonly createdAt: string;
  readonly outcome: string | null;
  readonly agentId: string | null;
  readonly talkSeconds: number;
}

/** Who is calling, from where, their value and their history (`call-context.ts`). */
export interface CallContext {
  readonly callId: string;
  readonly state: string;
  readonly queue: string | null;
  readonly sessionNumber: string;
  readonly sessionId: string;
  readonly origin: string;
  readonly createdAt: string;
  readonly publicClaims: Partial<CallTokenPublicClaims>;
  readonly privateClaims: PrivateClaims;
  readonly routing: RoutingDecision | null;
  readonly previousCalls: readonly PreviousCall[];
  /** Who called: a browser, a SIP visitor, or a phone through a trunk (older gateways: absent). */
  readonly channel?: 'browser' | 'sip' | 'phone';
  /** A phone caller's number (E.164), null when withheld. */
  readonly callerNumber?: string | null;
  /** The number a phone caller dialled (the DID). */
  readonly called?: string | null;
  /** Set when the call is an accepted callback (the customer was called first and pressed 1). */
  readonly callback?: CallbackContext | null;
  /**
   * What the call's flow did before it reached the agent (the phone menu, a
   * recording, a transcript): its stored verb results and errors, source
   * errors and final transcripts, in order. Absent on older gateways and on
   * calls no flow ran on.
   */
  readonly flow?: readonly FlowEvent[];
}

/** A call record as `GET /desk/api/calls` lists it (the fields the desk shows). */
export interface CallSummary {
  readonly id: string;
  readonly sessionNumber: string;
  readonly customerId: string | null;
  readonly queue: string | null;
  readonly origin: string;
  readonly agentId: string | null;
  readonly state: string;
  readonly outcome: string | null;
  readonly endedBy: string | null;
  readonly reason: string | null;
  readonly createdAt: string;
  readonly answeredAt: string | null;
  readonly endedAt: string | null;
}

/** `GET /desk/api/calls/:id`. */
export interface CallDetail extends CallSummary {
  readonly messages: readonly StoredMessage[];
  /** Set while the call is live. */
  readonly context: CallContext | null;
  readonly session: unknown;
}

/** A caller waiting in a queue, as the desk shows it. */
export interface WaitingCallerView {
  readonly callId: string;
  /** 1 is next. */
  readonly position: number;
  /** When the caller joined (ISO). */
  readonly since: string;
  readonly value: number;
  readonly tier: string | null;
  readonly channel: 'browser' | 'sip' | 'phone';
  readonly from: string | null;
  readonly sessionNumber: string | null;
  readonly customerId: string | null;
}

/** Who waits in a queue now (`gateway/src/queues/desk-feed.ts`). */
export interface QueueView {
  readonly queue: string;
  /** Callers waiting (not counting those being offered to an agent). */
  readonly waiting: number;
  /** Callers being rung at an agent now. */
  readonly offered: number;
  readonly longestWaitSeconds: number;
  /** The first callers, best first (at most {@link QUEUE_VIEW_CALLERS}). */
  readonly callers: readonly WaitingCallerView[];
}

/** Callers listed in a `QueueView`; `waiting` counts them all. */
export const QUEUE_VIEW_CALLERS = 50;

/** A frame of the events socket, gateway → desk. */
export type DeskEvent =
  | { readonly type: 'presence'; readonly agent: DeskAgent }
  | { readonly type: 'ring'; readonly call: CallContext }
  | { readonly type: 'ring-stopped'; readonly callId: string }
  | { readonly type: 'answered'; readonly call: CallContext }
  | { readonly type: 'message'; readonly callId: string; readonly stored: StoredMessage }
  | {
      readonly type: 'ended';
      readonly callId: string;
      readonly reason: string | null;
      readonly outcome: string | null;
    }
  | {
      readonly type: 'notice';
      /** take_failed: a `take-voicemail` could not be done (already taken, not answered…). */
      readonly code: 'message_rejected' | 'take_failed';
      readonly reason: string;
    }
  /** To the agents of a queue, whenever who waits in it changed (at most 4 a second). */
  | { readonly type: 'queue'; readonly queue: QueueView }
  /**
   * What a call's flow is doing, live (`flow-events.ts`): to the agents ringing
   * for or talking on the call, to the agents of the queue it waits in, and,
   * while it is in no queue yet (a phone menu), to the agents of its tenant.
   * Partial transcripts go only to the agents ringing for or talking on it.
   */
  | { readonly type: 'flow'; readonly event: FlowEvent }
  /** A callback to the agent's queue (or to the agent), one frame per phase (docs/callbacks.md). */
  | { readonly type: 'callback'; readonly callback: DeskCallbackView }
  /** To the agents of the queue: a voicemail being left, its text as it is recognised, its end. */
  | VoicemailEvent
  /** To the agents of the box: a stored voicemail marked heard or deleted. */
  | VoicemailInboxEvent;

/** A frame of the events socket, desk → gateway. */
export type DeskCommand =
  | { readonly type: 'chat'; readonly callId: string; readonly text: string }
  | { readonly type: 'availability'; readonly value: Availability }
  /** The agent put the visitor on hold (or resumed): the widget tells the visitor. */
  | { readonly type: 'hold'; readonly callId: string; readonly held: boolean }
  /** The agent takes the call of a voicemail being recorded (docs/voicemail.md). */
  | { readonly type: 'take-voicemail'; readonly voicemailId: string };
