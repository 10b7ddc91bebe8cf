/** Verb results and flow events are wire types, shared with the desk: `@parley/shared/protocol`. */
export type {
  DialResult,
  DialStatus,
  EnqueueResult,
  GateResult,
  GatherResult,
  HangupResult,
  PauseResult,
  PromptResult,
  RecordResult,
  RedirectResult,
  TranscribeResult,
  VerbFailure,
  VerbResult,
  VerbResults,
  VoicemailResult,
} from '@parley/shared/protocol';
