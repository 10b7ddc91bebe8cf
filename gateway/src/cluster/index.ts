export { createSharedState, type SharedState } from './shared-state.js';
export { ClusterMetrics } from './metrics.js';
export { RedisLink, type RedisLinkOptions } from './redis-link.js';
export { RedisReplayStore } from './replay-store.js';
export { LostGatewaySweeper, watchLostGateways, type LostGatewayModule } from './lost-gateways.js';
export {
  ConfirmedLapses,
  lapsedInstanceList,
  lapsedInstances,
  type InstanceAlive,
} from './lapsed.js';
export { GatewayPresence } from './presence.js';
export { RedisQueueState, type RedisQueueStateOptions } from './redis-queue-state.js';
export { RedisQueueChanges } from './queue-changes.js';
