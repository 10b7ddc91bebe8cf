export { FlowRunner, type FlowRunnerOptions } from './runner.js';
export { DEFAULT_LIMITS, type FlowLimits, type FlowOutcome } from './run.js';
export type {
  Audio,
  Bridge,
  Digit,
  DialAttempt,
  DialOptions,
  FlowCall,
  FlowCallContext,
  GateOptions,
  Recording,
  RecordingEvents,
  RecordingOptions,
  SpeechSynthesizer,
  Transcription,
  TranscriptionEvents,
  TranscriptionOptions,
} from './ports.js';
export type {
  FlowRef,
  JoinRefusal,
  JoinRequest,
  JoinResult,
  QueueTicket,
  QueueTicketEvents,
  TicketEnd,
  WaitingQueues,
  WaitingSettings,
} from './queue-port.js';
export { fanOut, type FlowEventSink } from './events.js';
export { PromptLoader, type AudioRef, type PromptSettings } from './runtime/prompts.js';
export { FlowCatalog, createFlowCatalog, type FlowDefinition } from './sources/catalog.js';
export type { FlowRequest, FlowSource, SourceAnswer } from './sources/source.js';
export { sign as signWebhookBody } from './sources/webhook.js';
export { queueFlow, unavailableFlow, UNAVAILABLE_TEXT, type BuiltinFlow } from './builtin.js';
export {
  parseVerbs,
  verbSchema,
  verbsSchema,
  MAX_VERBS,
  type Verb,
  type VerbInput,
  type VerbName,
} from './verbs/schema.js';
export type * from './verbs/results.js';
export { createFlowRunner } from './from-config.js';
export {
  FLOW_SCHEMA,
  SqliteFlowEventStore,
  storedFlowEvent,
  type FlowEventStore,
} from './flow-event-store.js';
export { PgFlowEventStore } from './postgres/pg-flow-event-store.js';
export {
  FlowEventJournal,
  moveFlowEventJournal,
  newestFlowEventJournalRow,
} from './postgres/flow-event-journal.js';
export { FLOW_PG_MIGRATIONS } from './postgres/pg-schema.js';
export { flowsMoveTables, refuseUnmovedFlows } from './move.js';
