export {
  AgentDirectory,
  type AgentConfig,
  type AgentContact,
  type AgentPresence,
  type AgentState,
} from './agent-directory.js';
export { longestIdleCandidates } from './longest-idle.js';
