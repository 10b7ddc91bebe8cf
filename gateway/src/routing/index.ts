export { rankCandidates, type Candidate, type QueueRouting } from './candidates.js';
export { queueSettings, type QueueSettings } from './queues.js';
export {
  ValueService,
  type TenantValueConfig,
  type ValueEvaluation,
  type HistoryLookup,
} from './value/value-service.js';
export { weightedAlgorithm, DEFAULT_WEIGHTED, type WeightedConfig } from './value/builtin.js';
export { loadValueModule } from './value/module-loader.js';
export { valueServiceFromConfig } from './value/from-config.js';
export { ProviderClient, type ProviderConfig } from './value/provider-client.js';
export type {
  CandidateView,
  CustomerHistory,
  ProviderScore,
  RoutingDecision,
  ValueAlgorithm,
  ValueInput,
  ValueResult,
} from './value/types.js';
export { customerHistory } from './value/history.js';
