/**
 * Live voicemail (issue 11, docs/voicemail.md): answered when no agent takes
 * a call, transcribed while it is recorded, pushed to the queue's desks.
 */
export {
  VoicemailMessage,
  type MessageDeps,
  type MessageEndReason,
  type MessageResult,
} from './message.js';
export { Voicemails, type VoicemailsDeps } from './voicemails.js';
export { VoicemailLive, type LiveListener } from './live.js';
export { SqliteVoicemailStore } from './sqlite-store.js';
export { PgVoicemailStore } from './postgres/pg-store.js';
export { VOICEMAIL_PG_MIGRATIONS } from './postgres/pg-schema.js';
export {
  VOICEMAIL_SCHEMA,
  type NewVoicemail,
  type VoicemailEnd,
  type VoicemailRecord,
  type VoicemailStore,
} from './store.js';
export { voicemailRouter, voicemailLiveUpgrade, VOICEMAIL_LIVE_PATH } from './http.js';
export { voicemailView } from './view.js';
export { wireVoicemail, type VoicemailWiring } from './wire.js';
export { voicemailMoveTables, refuseUnmovedVoicemail } from './move.js';
