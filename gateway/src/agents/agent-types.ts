/**
 * The agents' types: what an agent is (config), where its phones are
 * (contacts), what it is doing (presence), what this gateway tells the
 * cluster of it, and what a sign-in is checked against. `AgentDirectory`
 * (agent-directory.ts) holds them.
 */
import type { VoicemailSettings } from '../config/voicemail.js';

export interface AgentConfig {
  readonly id: string;
  readonly tenant: string;
  readonly username?: string | undefined;
  /** The secret as configured, or (for agents managed through the API) only its digest H(A1) values. */
  readonly password?: string | undefined;
  readonly ha1?: { readonly MD5?: string; readonly 'SHA-256'?: string } | undefined;
  readonly displayName?: string | undefined;
  readonly queues: readonly string[];
  readonly maxCalls: number;
  readonly digestAlgorithms?: readonly ('SHA-256' | 'MD5')[] | undefined;
  /** A fixed contact: reachable without registering. */
  readonly contact?: string | undefined;
  /** A telephone number called through a trunk (`agents[].phone`): reachable without registering. */
  readonly phone?: string | undefined;
  /** With `phone`: the trunk (`trunks.<id>`); default the tenant's first outbound trunk. */
  readonly trunk?: string | undefined;
  /** Seniority or skill band (`senior`, `junior`…) that queues match to customer value bands. */
  readonly tier?: string | undefined;
  readonly skills?: readonly string[] | undefined;
  /** Where the agent is defined: the config file (default) or the `/v1/agents` API. */
  readonly source?: 'config' | 'api' | undefined;
  /** The agent's own voicemail box (`agents[].voicemail`, or `voicemail` of `PUT /v1/agents/<id>`). */
  readonly voicemail?: VoicemailSettings | undefined;
}

/** Where an agent can be reached: one registered Contact (an agent may have several). */
export interface AgentContact {
  readonly uri: string;
  readonly expiresAt: number;
  /** Transport flow the REGISTER came over, to reach phones behind NAT or on TCP. */
  readonly flowId: string | undefined;
  /** RFC 3327 Path of the registration: the edge proxies a request to the phone passes. */
  readonly path?: readonly string[] | undefined;
  /** The phone's own transport as the registrar saw it (WS: a browser, the desk's softphone). */
  readonly transport?: 'UDP' | 'TCP' | 'WS' | 'WSS' | undefined;
  /** A number on the telephone network (`agents[].phone`, uri `tel:<number>`): called through a trunk. */
  readonly phone?: { readonly number: string; readonly trunk: string | undefined } | undefined;
}

export type AgentState = 'offline' | 'away' | 'wrap-up' | 'available' | 'ringing' | 'busy';

/** What the agent chose on the desk. */
export type AgentAvailability = 'available' | 'away';

export interface AgentPresence {
  readonly id: string;
  readonly tenant: string;
  readonly username: string;
  readonly displayName: string | undefined;
  readonly queues: readonly string[];
  readonly maxCalls: number;
  readonly source: 'config' | 'api';
  readonly state: AgentState;
  readonly registered: boolean;
  readonly contacts: readonly AgentContact[];
  /** Calls answered, through every gateway of the cluster (the others' as they last told). */
  readonly activeCalls: number;
  /** Calls ringing, through every gateway of the cluster. */
  readonly ringing: number;
  /** Since when the agent has been idle (epoch ms), the basis of longest-idle routing. */
  readonly idleSince: number | undefined;
  readonly tier: string | undefined;
  readonly skills: readonly string[];
  readonly availability: AgentAvailability;
  /** End of the wrap-up period after a call (epoch ms), while in wrap-up. */
  readonly wrapUpUntil: number | undefined;
  /** Average length of the agent's recent answered calls, in seconds. */
  readonly recentHandleSeconds: number | undefined;
}

export interface AgentDirectoryEvents {
  change: [AgentPresence];
  /** The agent was deleted: drop its registrations and desk sessions. */
  removed: [agentId: string];
  /** This gateway's registrar, desk or calls changed the agent's contacts, availability or wrap-up (for the cluster). */
  localChange: [agentId: string];
  /** A call of the agent's started or stopped ringing, or was answered or ended, through this gateway (for the cluster). */
  localCalls: [agentId: string];
}

/** Where a change comes from: this gateway (`local`), or another gateway's instance id. */
export type ChangeOrigin = string;

/** What this gateway knows first-hand of an agent: what the cluster's other gateways are told. */
export interface LocalAgentState {
  /** Contacts registered through this gateway (not the fixed one, not other gateways'). */
  readonly contacts: readonly AgentContact[];
  readonly availability: AgentAvailability;
  /** When the availability was last chosen (epoch ms): the latest choice wins across gateways. */
  readonly availabilityAt: number;
  /**
   * The end (epoch ms) of a wrap-up this gateway gave the agent after a call here: the
   * others offer it no call until then either.
   */
  readonly wrapUpUntil: number | undefined;
  /** When that wrap-up was given (epoch ms): an "available" chosen later ended it. */
  readonly wrapUpAt: number | undefined;
  /** The agent's calls ringing through this gateway. */
  readonly ringing: number;
  /** The agent's calls answered through this gateway. */
  readonly activeCalls: number;
}

/** What the registrar and the desk check a sign-in against. */
export interface AgentCredentials {
  readonly agentId: string;
  readonly username: string;
  readonly password?: string | undefined;
  readonly ha1?: { readonly MD5?: string; readonly 'SHA-256'?: string } | undefined;
  readonly algorithms?: readonly ('SHA-256' | 'MD5')[] | undefined;
}
