/** A stored voicemail as the API and the desk see it. */
import type { VoicemailView } from '@parley/shared/protocol';
import type { VoicemailRecord } from './store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `privateClaims` only for readers allowed to see them (an API key with `privateClaims`, the desk). */
export function voicemailView(record: VoicemailRecord, privateClaims: boolean): VoicemailView {
  return {
    id: record.id,
    callId: record.callId,
    tenant: record.tenant,
    queue: record.queue,
    agent: record.agent,
    cause: record.cause,
    status: record.status,
    sessionNumber: record.sessionNumber,
    sessionId: record.sessionId,
    origin: record.origin,
    page: record.page,
    publicClaims: record.publicClaims,
    ...(privateClaims ? { privateClaims: record.privateClaims } : {}),
    createdAt: new Date(record.createdAt).toISOString(),
    endedAt: iso(record.endedAt),
    durationMs: record.durationMs,
    endReason: record.endReason,
    transcript: record.transcript,
    utterances: record.utterances,
    transcriptError: record.transcriptError,
    takenBy: record.takenBy,
    takenAt: iso(record.takenAt),
    heardAt: iso(record.heardAt),
    heardBy: record.heardBy,
    hasRecording: record.recordingPath !== null,
  };
}
