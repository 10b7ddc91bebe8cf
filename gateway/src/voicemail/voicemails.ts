/**
 * Live voicemail for calls (issue 11, S7): when no agent of a queue with
 * `voicemail` took the call (every candidate rang out, or none is signed in),
 * the gateway answers the caller itself, runs a {@link VoicemailMessage} on
 * the caller's leg, stores the record and its recording, and publishes the
 * text as it is recognised ({@link VoicemailLive}: the queue's desks and the
 * `/live` WebSocket). `take()` hands the caller to an agent mid-message.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { VoicemailView } from '@parley/shared/protocol';
import { pickCodec, type Call, type CallManager } from '../calls/index.js';
import type { VoicemailSettings } from '../config/voicemail.js';
import type { MediaApps } from '../media/apps/index.js';
import { SUPPORTED_CODECS } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { TextToSpeech, Transcriber } from '../speech/index.js';
import { VoicemailLive } from './live.js';
import { VoicemailMessage, type MessageResult } from './message.js';
import type { VoicemailRecord, VoicemailStore } from './store.js';
import { voicemailView } from './view.js';

export interface VoicemailsDeps {
  readonly calls: CallManager;
  readonly store: VoicemailStore;
  readonly apps: MediaApps;
  readonly tts: TextToSpeech;
  readonly transcriber: Transcriber;
  /** The queue's voicemail settings, when it has voicemail. */
  readonly settings: (queue: string) => VoicemailSettings | undefined;
  /** Recordings go to `<recordingsDir>/<tenant>/voicemail-<id>.wav`. */
  readonly recordingsDir: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** A voicemail being recorded now. */
interface Running {
  readonly id: string;
  readonly call: Call;
  readonly message: VoicemailMessage;
}

export class Voicemails {
  readonly live = new VoicemailLive();
  readonly #deps: VoicemailsDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #running = new Map<string, Running>();
  #closed = false;

  constructor(deps: VoicemailsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'voicemail' });
    this.#now = deps.now ?? Date.now;
    deps.calls.onCall((call) => {
      if (deps.settings(call.record.queue ?? '')) call.keepOnNoAgent();
      call.once('agentsExhausted', (reason) => {
        const settings = deps.settings(call.record.queue ?? '');
        if (!settings) return;
        this.#log.info({ callId: call.id, reason }, 'no agent took the call: voicemail answers');
        void this.#answer(call, settings);
      });
    });
  }

  /** Voicemails being recorded now. */
  get recording(): number {
    return this.#running.size;
  }

  get(id: string): VoicemailRecord | undefined {
    return this.#deps.store.get(id);
  }

  view(id: string, privateClaims: boolean): VoicemailView | undefined {
    const record = this.#deps.store.get(id);
    return record ? voicemailView(record, privateClaims) : undefined;
  }

  /** Ends every recording (what was said is kept); safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const running of this.#running.values()) running.message.stop('stopped');
  }

  async #answer(call: Call, settings: VoicemailSettings): Promise<void> {
    const { apps, store } = this.#deps;
    const codec = SUPPORTED_CODECS.find((name) => pickCodec(call.caller.offer, name));
    const chosen = codec ? pickCodec(call.caller.offer, codec) : undefined;
    if (!codec || !chosen || this.#closed) {
      call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
      return;
    }
    if (!(await call.answerCaller({ codec }))) return;
    const router = call.router;
    const transport = call.caller.media;
    if (!router || !transport) return;
    let leg;
    try {
      leg = await apps.attach(router, transport, chosen);
    } catch (error) {
      this.#log.error({ err: error, callId: call.id }, 'voicemail media could not be attached');
      call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'internal' });
      return;
    }
    // SIP INFO digits (RFC 6086 dtmf-relay) reach the call, not the endpoint.
    call.on('dtmf', (digit, from) => {
      if (from === call.caller) leg.dtmf.inject(digit, 100);
    });
    const id = randomUUID();
    const record = call.record;
    const dir = join(this.#deps.recordingsDir, record.tenant);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `voicemail-${id}.wav`);
    const message = new VoicemailMessage({
      leg,
      settings,
      tts: this.#deps.tts,
      transcriber: this.#deps.transcriber,
      file,
      logger: this.#log.child({ voicemailId: id, callId: call.id }),
    });
    this.#running.set(id, { id, call, message });
    message.once('recording', () => {
      const claims = call.token.claims;
      const page = call.token.privateClaims['page'];
      store.insert({
        id,
        callId: call.id,
        tenant: record.tenant,
        queue: record.queue ?? '',
        sessionNumber: record.sessionNumber,
        sessionId: record.sessionId,
        origin: claims.origin,
        page: typeof page === 'string' ? page : null,
        publicClaims: { ...claims },
        privateClaims: call.token.privateClaims,
        recordingPath: file,
        createdAt: this.#now(),
      });
      this.live.publish({ type: 'voicemail-started', voicemail: this.#viewOf(id) });
    });
    message.on('partial', (utterance, text) =>
      this.live.publish({ type: 'voicemail-partial', voicemailId: id, utterance, text }),
    );
    message.on('final', (n, text, startMs, endMs) => {
      const utterance = { utterance: n, text, startMs, endMs };
      store.addUtterance(id, utterance);
      this.live.publish({ type: 'voicemail-final', voicemailId: id, utterance });
    });
    message.on('transcriptError', (error) => store.transcriptFailed(id, error));
    const result = await message.run();
    this.#running.delete(id);
    this.#finish(id, call, result);
  }

  #finish(id: string, call: Call, result: MessageResult): void {
    if (!result.recorded) {
      // Gone before the beep: no voicemail row, no file (the recorder never started).
      this.#log.info({ callId: call.id, reason: result.reason }, 'caller left before the beep');
      if (result.reason !== 'stopped')
        call.end({ outcome: 'no_answer', endedBy: 'visitor', reason: 'cancelled' });
      return;
    }
    this.#deps.store.finish(id, {
      status: result.reason === 'error' ? 'failed' : 'left',
      endedAt: this.#now(),
      durationMs: result.durationMs,
      endReason: result.reason,
    });
    this.live.publish({ type: 'voicemail-ended', voicemail: this.#viewOf(id) });
    this.#log.info(
      { voicemailId: id, reason: result.reason, ms: result.durationMs },
      'voicemail left',
    );
    const endedBy = result.reason === 'hangup' ? 'visitor' : 'gateway';
    call.end({ outcome: 'no_answer', endedBy, reason: 'normal_clearing' });
  }

  #viewOf(id: string): VoicemailView {
    const record = this.#deps.store.get(id);
    if (!record) throw new Error(`voicemail ${id} is not stored`);
    return voicemailView(record, true);
  }
}
