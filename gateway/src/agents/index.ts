/**
 * Agents: who they are (config file and `/v1/agents`), their credentials, where
 * their phones can be reached (registered and fixed contacts) and what they are
 * doing (presence: ringing, busy, away, wrap-up). Routing reads this; the
 * registrar, the desk and calls write to it.
 */
export {
  AgentDirectory,
  type AgentAvailability,
  type AgentConfig,
  type AgentContact,
  type AgentCredentials,
  type AgentDirectoryEvents,
  type AgentPresence,
  type AgentState,
  type ChangeOrigin,
  type LocalAgentState,
} from './agent-directory.js';
export type { RemoteCalls } from './agent-entry.js';
export {
  LOCAL_AGENT_LOCKS,
  LOCAL_SLOT_CLAIMS,
  type AgentLocks,
  type SlotClaims,
} from './slot-claims.js';
export {
  AgentAdmin,
  AGENT_ID,
  agentInputSchema,
  type AgentAdminOptions,
  type AgentInput,
  type AgentPolicy,
} from './agent-admin.js';
export { reachableContact } from './contacts.js';
