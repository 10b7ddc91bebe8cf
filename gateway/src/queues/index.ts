export {
  QueueService,
  DEFAULT_WAITING,
  DECLINE_BACKOFF_MS,
  type QueueDefinition,
  type QueueServiceEvents,
  type WaitingConfig,
} from './queue-service.js';
export {
  MemoryQueueState,
  compareEntries,
  type QueueState,
  type WaitingCaller,
  type WaitingEntry,
} from './queue-state.js';
export type { QueueAgents, QueueChanges } from './ports.js';
export { estimatedWaitSeconds } from './estimated-wait.js';
export { QueueDeskFeed, queueView, QUEUE_FRAME_MS } from './desk-feed.js';
export { queueDefinitions } from './from-config.js';
export { DirectoryQueueAgents } from './directory-agents.js';
export { flowMetricsSink, observeQueues } from './metrics.js';
export {
  fallbackFlow,
  visitorFallback,
  type FallbackOptions,
  type FallbackStatus,
  type VisitorFallback,
} from './fallback.js';
