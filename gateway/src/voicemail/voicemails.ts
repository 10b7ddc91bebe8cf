/**
 * Live voicemail for calls (issue 11, S7): `answer()` (called by the rules in
 * `rules.ts`: a queue's calls no agent took, a direct call an agent did not
 * answer) answers the caller itself, runs a {@link VoicemailMessage} on the
 * caller's leg, stores the record and its recording, and publishes the text
 * as it is recognised ({@link VoicemailLive}: the box's desks and the `/live`
 * WebSocket). `take()` hands the caller to an agent mid-message. What a
 * browser caller types meanwhile comes from the message hub's accepted
 * messages (`MessageHub.subscribe`), so a line the hub refused (rate limit,
 * malformed) is never published.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { VoicemailResult, VoicemailView } from '@parley/shared/protocol';
import { ParleyError } from '@parley/shared/errors';
import { pickCodec, type Call, type CallManager, type MessageHub } from '../calls/index.js';
import type { LegMedia, MediaApps } from '../media/apps/index.js';
import { SUPPORTED_CODECS } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { TextToSpeech, Transcriber } from '../speech/index.js';
import { callerMedia } from './caller-media.js';
import { VoicemailLive } from './live.js';
import { VoicemailMessage } from './message.js';
import {
  insertedRecord,
  type NewVoicemail,
  type VoicemailRecord,
  type VoicemailStore,
} from './store.js';
import { voicemailView } from './view.js';
import { joinTaker, ringTaker, type TakeOverDeps } from './take-over.js';
import { followTyped, tellVisitor } from './visitor-notice.js';
import { endMessage, endNotStored, type Running, type VoicemailBox } from './running.js';
import { VoicemailWrites } from './writes.js';

export type { VoicemailBox } from './running.js';

export interface VoicemailsDeps extends TakeOverDeps {
  readonly calls: CallManager;
  readonly store: VoicemailStore;
  /** The calls' data-channel messages as the hub accepted them (what a browser caller types). */
  readonly messages: Pick<MessageHub, 'subscribe'>;
  readonly apps: MediaApps;
  readonly tts: TextToSpeech;
  readonly transcriber: Transcriber;
  /** Recordings go to `<recordingsDir>/<tenant>/voicemail-<id>.wav`. */
  readonly recordingsDir: string;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Waits before each new try of a failed end (`writes.ts`'s default otherwise). */
  readonly finishRetryMs?: readonly number[];
}

export class Voicemails {
  readonly live = new VoicemailLive();
  readonly #deps: VoicemailsDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #running = new Map<string, Running>();
  readonly #writes: VoicemailWrites;
  #closed = false;

  constructor(deps: VoicemailsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'voicemail' });
    this.#now = deps.now ?? Date.now;
    this.#writes = new VoicemailWrites({
      store: deps.store,
      logger: this.#log,
      ...(deps.finishRetryMs ? { retryMs: deps.finishRetryMs } : {}),
    });
  }

  /** Voicemails being recorded now. */
  get recording(): number {
    return this.#running.size;
  }

  get(id: string): Promise<VoicemailRecord | undefined> {
    return this.#deps.store.get(id);
  }

  /** The tenant, queue and agent of a voicemail being recorded here (its partial and final frames name only its id). */
  liveBox(id: string): { tenant: string; queue: string; agent: string | null } | undefined {
    const running = this.#running.get(id);
    if (!running) return undefined;
    return {
      tenant: running.call.record.tenant,
      queue: running.box.queue,
      agent: running.box.agent ?? null,
    };
  }

  /**
   * Ends every recording (what was said is kept); safe twice. Resolves once
   * their records are final (the transcripts' last parts in), or after `boundMs`.
   */
  async close(boundMs = 5000): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const running of this.#running.values()) running.message.stop('stopped');
    }
    const done = Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, boundMs)));
    await Promise.race([done, bound]);
    clearTimeout(timer);
    this.#writes.close();
  }

  /**
   * Voicemail answers `call` for `box`: resolves when the message is over
   * (for a taken call, when the call ended). `flowMedia`: the media
   * applications a flow has on the caller's leg already.
   */
  async answer(
    call: Call,
    box: VoicemailBox,
    flowMedia?: () => Promise<LegMedia>,
  ): Promise<VoicemailResult> {
    this.#log.info(
      { callId: call.id, queue: box.queue, agent: box.agent, cause: box.cause },
      'voicemail answers',
    );
    const outcome = await this.#answer(call, box, flowMedia);
    if (outcome === undefined) return { status: 'failed' };
    if (outcome.status === 'taken' && !call.ending)
      await new Promise<void>((resolve) => call.once('ended', () => resolve()));
    return outcome.status === 'hangup' ? { status: 'hangup' } : outcome;
  }

  /** Undefined when voicemail could not answer. */
  async #answer(
    call: Call,
    box: VoicemailBox,
    flowMedia: (() => Promise<LegMedia>) | undefined,
  ): Promise<{ voicemailId: string; status: VoicemailResult['status'] } | undefined> {
    const { store } = this.#deps;
    const settings = box.settings;
    // A call answered already keeps its codec: a flow's early answer, or a browser's answer
    // in an agent's early media (werift answers once).
    const codec = SUPPORTED_CODECS.find((name) => pickCodec(call.caller.offer, name));
    const chosen =
      call.gatewayCodec ??
      call.caller.fixedCodec ??
      (codec ? pickCodec(call.caller.offer, codec) : undefined);
    if (!chosen || this.#closed) {
      call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
      return undefined;
    }
    if (!(await call.answerCaller({ codec: chosen.codec.name }))) return undefined;
    const leg = await callerMedia(this.#deps.apps, call, chosen, flowMedia, this.#log);
    if (!leg) return undefined;
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
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const running: Running = {
      id,
      box,
      call,
      message,
      file,
      leg,
      codec: chosen,
      done,
      recorded: Promise.race([
        done,
        new Promise<void>((resolve) => message.once('recorded', resolve)),
      ]),
      recording: false,
      typed: [],
    };
    this.#running.set(id, running);
    message.once('recording', () => {
      running.recording = true;
      // A caller from the telephone network has no token: no origin, page or claims.
      const claims = call.token?.claims;
      const privateClaims = call.token?.privateClaims ?? {};
      const page = privateClaims['page'];
      const inserted: NewVoicemail = {
        id,
        callId: call.id,
        tenant: record.tenant,
        queue: box.queue,
        agent: box.agent ?? null,
        cause: box.cause,
        sessionNumber: record.sessionNumber,
        sessionId: record.sessionId,
        origin: claims?.origin ?? '',
        page: typeof page === 'string' ? page : null,
        publicClaims: { ...claims },
        privateClaims,
        recordingPath: file,
        createdAt: this.#now(),
      };
      running.inserted = insertedRecord(inserted, store.gateway);
      // Not stored: the message ends at once (`#notStored`), never a WAV no row names.
      running.stored = this.#writes.insert(inserted).then((stored) => {
        if (!stored) message.stop('error');
        return stored;
      });
      this.live.publish({
        type: 'voicemail-started',
        voicemail: voicemailView(running.inserted, true),
      });
      tellVisitor(call, true, () => this.#running.has(id) && !running.taker);
      // What a browser caller typed, as the message hub accepted it (stored with the call).
      const unsubscribe = followTyped(this.#deps.messages, call.id, (line) => {
        if (!this.#running.has(id)) return;
        running.typed.push(line);
        this.live.publish({ type: 'voicemail-typed', voicemailId: id, typed: line });
      });
      void done.then(unsubscribe);
    });
    message.on('partial', (utterance, text) =>
      this.live.publish({ type: 'voicemail-partial', voicemailId: id, utterance, text }),
    );
    message.on('final', (n, text, startMs, endMs) => {
      const utterance = { utterance: n, text, startMs, endMs };
      this.#writes.behind(id, store.addUtterance(id, utterance));
      this.live.publish({ type: 'voicemail-final', voicemailId: id, utterance });
    });
    message.on('transcriptError', (error) =>
      this.#writes.behind(id, store.transcriptFailed(id, error)),
    );
    const result = await message.run();
    // Also when the stream was cut without an error event: the record says why the transcript is short.
    if (result.transcriptError)
      this.#writes.behind(id, store.transcriptFailed(id, result.transcriptError));
    this.#running.delete(id);
    const stored = result.recorded && (await running.stored);
    try {
      const ends = { writes: this.#writes, live: this.live, logger: this.#log, now: this.#now };
      await (result.recorded && !stored ? endNotStored : endMessage)(ends, running, result);
    } catch (err) {
      this.#log.error({ err, voicemailId: id }, 'voicemail not finished');
    } finally {
      finished();
    }
    if (result.recorded && !stored) return undefined;
    const status = !result.recorded
      ? 'hangup'
      : result.reason === 'taken'
        ? 'taken'
        : result.reason === 'error'
          ? 'failed'
          : 'left';
    return { voicemailId: id, status };
  }

  /**
   * `agentId` takes the call of voicemail `id` while it is recorded: their
   * phone rings; when they answer, the recording stops and the caller is
   * bridged to them. `conflict` when someone took it (or is taking it)
   * already, `not_found` when it is not being recorded (ended, or still in
   * its greeting), `forbidden` for an agent not of its queue.
   */
  async take(id: string, agentId: string, tenant?: string): Promise<VoicemailView> {
    const running = this.#running.get(id);
    const stored = running ? undefined : await this.#deps.store.get(id);
    const visible = stored && (!tenant || stored.tenant === tenant);
    if (visible && stored.status === 'taken')
      throw new ParleyError('conflict', `the call was taken by ${stored.takenBy ?? 'an agent'}`, {
        expose: true,
      });
    // Being recorded on another gateway of the cluster: the caller's leg is there.
    if (visible && stored.status === 'recording' && stored.gateway !== this.#deps.store.gateway)
      throw new ParleyError(
        'elsewhere',
        `this voicemail is being recorded on gateway ${stored.gateway}: take it there`,
        { expose: true },
      );
    const record = running?.call.record;
    if (!running || !record || !running.recording || (tenant && record.tenant !== tenant))
      throw new ParleyError('not_found', 'no voicemail with this id is being recorded');
    if (running.taker)
      throw new ParleyError('conflict', `the call is already taken by ${running.taker}`, {
        expose: true,
      });
    const agent = this.#deps.agents.get(agentId);
    const box = running.box;
    const allowed =
      agent?.tenant === record.tenant &&
      (box.agent === undefined ? agent.queues.includes(box.queue) : box.agent === agentId);
    if (!allowed)
      throw new ParleyError(
        'forbidden',
        box.agent === undefined
          ? `agent ${agentId} is not an agent of this queue`
          : `this message is for ${box.agent}`,
        { expose: true },
      );
    running.taker = agentId;
    let leg;
    try {
      leg = await ringTaker(this.#deps, running.call, agentId, running.codec);
    } catch (error) {
      running.taker = undefined;
      throw error;
    }
    if (!this.#running.has(id)) {
      leg.close('normal_clearing');
      throw new ParleyError('conflict', 'the message ended before the agent answered', {
        expose: true,
      });
    }
    running.takenAt = this.#now();
    running.message.stop('taken');
    // Bridged as soon as the recorder stopped, not once the recogniser's last final came.
    await running.recorded;
    // The gateway's endpoint goes before the legs are bridged: the relay has the call again.
    running.leg.close();
    joinTaker(this.#deps, running.call, leg, agentId);
    this.#log.info({ voicemailId: id, agentId }, 'voicemail taken');
    // The record says `taken` once the transcript's last part is in.
    await running.done;
    return this.#writes.view(id, running.inserted, running.typed);
  }
}
