/**
 * The `FlowCall` port over a real call (`flows/ports.ts`): what every verb
 * does on a browser visitor, a SIP visitor or a call from the telephone
 * network. The gateway answers the caller itself with a G.711 codec (PCMU
 * for a browser: Opus through WebAssembly costs 15-20x the CPU per frame,
 * docs/benchmarks.md), the media applications attach to the caller's leg
 * (`caller-media.ts`), recordings and transcriptions hear the caller's
 * direction, and `dial` rings agents, queues, numbers and SIP URIs
 * (`dial-targets.ts`) with the session's number as caller ID (S6).
 */
import type { GateResult, QueueStatus, VoicemailResult } from '@parley/shared/protocol';
import type {
  Audio,
  DialAttempt,
  DialOptions,
  Digit,
  FlowCall,
  FlowCallContext,
  GateOptions,
  Recording,
  RecordingOptions,
  Transcription,
  TranscriptionOptions,
  VoicemailRequest,
} from '../../flows/ports.js';
import type { DialTarget } from '../../flows/verbs/schema.js';
import type { DecodedPrompts, LegMedia, MediaApps } from '../../media/apps/index.js';
import type { Transcriber } from '../../speech/index.js';
import type { CallOutcome } from '../../storage/index.js';
import { formatUri } from '../../sip/index.js';
import type { Call } from '../call.js';
import { isErrorCode } from '../leg.js';
import { pickCodec } from '../sdp-bridge.js';
import { CallerMedia } from './caller-media.js';
import type { TargetDialer } from './dial-targets.js';
import { CallerRecording } from './recording.js';
import { CallerTranscription } from './transcription.js';

/**
 * The voicemail module (docs/voicemail.md): the caller leaves a message in
 * `box` on the flow's media applications; resolves when it is over
 * (`unavailable` when the box has no voicemail).
 */
export type FlowVoicemailHook = (
  call: Call,
  box: VoicemailRequest,
  media: () => Promise<LegMedia>,
) => Promise<VoicemailResult>;

/**
 * A gated facility's call path (docs/gated.md): runs the `gate` verb on the
 * call through the same port; resolves when the call is over.
 */
export type FlowGateHook = (
  call: Call,
  port: FlowCall,
  options: GateOptions,
) => Promise<GateResult>;

export interface FlowCallDeps {
  readonly apps: MediaApps;
  readonly prompts: DecodedPrompts;
  readonly transcriber: Transcriber;
  readonly dialer: TargetDialer;
  readonly voicemail?: FlowVoicemailHook | undefined;
  /** The `gate` verb: only on a gated tenant's call. */
  readonly gate?: FlowGateHook | undefined;
  /** Codecs a trunk call may be answered with, its trunk's order (`trunks.<id>.codecs`). */
  readonly trunkCodecs?: readonly string[] | undefined;
}

/** SIP statuses of `hangup` reasons before the answer (TwiML's <Reject>). */
const REFUSALS: Readonly<Record<string, number>> = { busy: 486, rejected: 603, completed: 603 };

export class CallFlow implements FlowCall {
  readonly context: FlowCallContext;
  readonly #call: Call;
  readonly #deps: FlowCallDeps;
  readonly #ended = new AbortController();
  readonly #media: CallerMedia;
  #answering: Promise<void> | undefined;

  constructor(call: Call, deps: FlowCallDeps, value: FlowCallContext['value']) {
    this.#call = call;
    this.#deps = deps;
    this.#media = new CallerMedia(call, deps.apps, deps.prompts);
    const record = call.record;
    const view = call.callerView;
    const browser = record.channel === 'browser';
    this.context = {
      callId: call.id,
      tenant: record.tenant,
      channel: record.channel,
      direction: 'inbound',
      from: view.trunk
        ? view.trunk.callerNumber
        : browser
          ? null
          : formatUri(call.caller.invite.from.uri),
      to: view.trunk ? view.trunk.called : record.queue,
      sessionNumber: view.trunk ? null : record.sessionNumber,
      sessionId: view.trunk ? null : record.sessionId,
      queue: record.queue,
      customerId: record.customerId,
      publicClaims: view.publicClaims,
      privateClaims: view.privateClaims,
      value,
    };
    if (call.ending) this.#ended.abort();
    else call.once('ended', () => this.#ended.abort());
    if (browser) this.sendToVisitor = queueStatusSender(call);
    const gate = deps.gate;
    if (gate) this.gate = (options) => gate(call, this, options);
  }

  readonly sendToVisitor?: (status: QueueStatus) => void;
  readonly gate?: (options: GateOptions) => Promise<GateResult>;

  get ended(): AbortSignal {
    return this.#ended.signal;
  }

  get answered(): boolean {
    return this.#call.caller.state === 'answered';
  }

  /** The call underneath (for the composition root's wiring). */
  get call(): Call {
    return this.#call;
  }

  answer(): Promise<void> {
    if (this.answered && this.#media.attached) return Promise.resolve();
    this.#answering ??= this.#answer(false);
    return this.#answering.then(() =>
      // An early answer (183, while a dial rang) becomes the 200 now.
      this.answered ? undefined : this.#answerNow(false),
    );
  }

  play(audio: Audio, options: { readonly signal: AbortSignal }): Promise<void> {
    return this.#media.play(audio, options.signal);
  }

  onDigit(listener: (digit: Digit) => void): () => void {
    return this.#media.onDigit(listener);
  }

  async startRecording(options: RecordingOptions): Promise<Recording> {
    await this.answer();
    return CallerRecording.start(await this.#media.media(), options);
  }

  startTranscription(options: TranscriptionOptions): Transcription {
    return new CallerTranscription(this.#deps.transcriber, this.#media.media(), {
      ...options,
      id: this.#call.id,
    });
  }

  async dial(target: DialTarget, options: DialOptions): Promise<DialAttempt> {
    const call = this.#call;
    // The caller hears what the target's network plays (early media, 183) and
    // is answered (200) when the target answers; a browser is answered now,
    // also one the gateway answered early in a 180 (media.earlyAnswer), whose
    // transport the dial's early media is piped to once it is answered.
    const browserWaiting = call.caller.webrtc && call.caller.state !== 'answered';
    if (!call.gatewayCodec || browserWaiting) await this.#answer(!call.caller.webrtc);
    if (call.ending) return { status: 'canceled', reason: 'caller_hangup' };
    const record = call.record;
    const callerId =
      options.callerId ??
      (call.callerView.trunk
        ? (call.callerView.trunk.callerNumber ?? record.sessionNumber)
        : record.sessionNumber);
    const value = await call.value();
    const attempt = await this.#deps.dialer.dial(call, target, {
      ...options,
      callerId,
      tier: value?.tier,
    });
    return target.type === 'agent'
      ? this.#orVoicemail(target.agent, attempt, options.signal)
      : attempt;
  }

  async voicemail(box: VoicemailRequest): Promise<VoicemailResult> {
    if (!this.#deps.voicemail) return { status: 'unavailable' };
    // Answered (200) on the flow's codec first: the flow's media applications play the greeting.
    await this.answer();
    if (this.#call.ending) return { status: 'hangup' };
    return this.#deps.voicemail(this.#call, box, () => this.#media.media());
  }

  /** A direct call the agent did not take (no answer, busy, unreachable) goes to their own box. */
  async #orVoicemail(
    agentId: string,
    attempt: DialAttempt,
    signal: AbortSignal,
  ): Promise<DialAttempt> {
    if (attempt.status === 'answered' || attempt.status === 'canceled') return attempt;
    if (attempt.reason === 'unknown_agent' || signal.aborted || this.#call.ending) return attempt;
    const hook = this.#deps.voicemail;
    if (!hook) return attempt;
    // The dial answered early (183): voicemail turns it into the 200 on the same media.
    const box = { agent: agentId, cause: 'no-answer' } as const;
    const result = await hook(this.#call, box, () => this.#media.media());
    return result.status === 'unavailable' ? attempt : { ...attempt, reason: 'voicemail' };
  }

  hangup(reason: string): Promise<void> {
    const call = this.#call;
    if (call.ending) return Promise.resolve();
    const answered = call.caller.state === 'answered';
    const status = answered
      ? undefined
      : (REFUSALS[reason] ?? (isErrorCode(reason) ? undefined : 603));
    const outcome: CallOutcome = answered ? 'answered' : reason === 'busy' ? 'busy' : 'failed';
    call.end({ outcome, endedBy: 'gateway', reason, status });
    return Promise.resolve();
  }

  async #answer(early: boolean): Promise<void> {
    await this.#answerNow(early);
    if (!this.#call.ending) await this.#media.media();
  }

  async #answerNow(early: boolean): Promise<void> {
    const call = this.#call;
    const codec = call.gatewayCodec?.codec.name ?? this.#codec();
    if (!(await call.answerCaller({ codec, early }))) return;
  }

  /** The codec the gateway answers with: G.711 from the caller's offer, the trunk's order first. */
  #codec(): string {
    const offer = this.#call.caller.offer;
    const order = this.#deps.trunkCodecs ?? ['PCMU', 'PCMA'];
    return order.find((name) => pickCodec(offer, name)) ?? 'PCMU';
  }
}

/**
 * Queue statuses to a browser visitor's data channel. A status is state, not
 * an event: when the channel is not open yet (the caller joins the queue as
 * the gateway answers, before the browser's SCTP association is up) the
 * latest one is kept and sent when it opens, instead of being dropped and
 * leaving the widget without its place in the queue.
 */
function queueStatusSender(call: Call): (status: QueueStatus) => void {
  let pending: string | undefined;
  let waiting = false;
  return (status) => {
    const text = JSON.stringify(status);
    if (call.sendToVisitor(text)) {
      pending = undefined;
      return;
    }
    pending = text;
    const media = call.caller.media;
    if (waiting || media?.kind !== 'webrtc' || media.closed) return;
    waiting = true;
    media.once('dataChannelOpen', () => {
      waiting = false;
      if (pending !== undefined) call.sendToVisitor(pending);
      pending = undefined;
    });
  };
}
