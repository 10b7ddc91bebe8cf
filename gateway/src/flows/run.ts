/**
 * One flow running on one call: verbs one after the other, redirects, the
 * follow-up requests of `actionHook`s, a queue's fallback, and the events of
 * it all. Everything waits on the call's `ended` signal, so when the caller
 * hangs up every verb stops at once and the run ends.
 *
 *   open(flow) ─▶ verb ─▶ verb ─▶ … ─▶ end of verbs / hangup ─▶ flow.end
 *                  │ redirect, actionHook answer, queue fallback: open(next)
 *                  └ a verb that fails: verb.error, on to the next verb
 */
import { join } from 'node:path';
import type {
  FlowEndReason,
  FlowEvent,
  FlowSourceFailure,
  FlowSourceKind,
  VerbFailure,
} from '@parley/shared/protocol';
import type { Logger } from '../observability/index.js';
import { unavailableFlow } from './builtin.js';
import type { FlowEventSink } from './events.js';
import type { FlowCall, SpeechSynthesizer } from './ports.js';
import type { FlowRef, WaitingQueues } from './queue-port.js';
import { DigitStream } from './runtime/digits.js';
import type { PromptLoader } from './runtime/prompts.js';
import { TranscriptionControl } from './runtime/transcription-control.js';
import type { EventBody, VerbContext } from './runtime/verb-context.js';
import { verbFailure } from './runtime/verb-error.js';
import type { FlowCatalog } from './sources/catalog.js';
import type { FlowRequest, FlowSource } from './sources/source.js';
import type { VerbResult } from './verbs/results.js';
import { runVerb } from './verbs/index.js';
import type { Verb } from './verbs/schema.js';

export interface FlowLimits {
  /** Redirects and fetched verb lists in a row without the caller doing anything. */
  readonly redirectsInARow: number;
  /** The same over the whole call. */
  readonly redirectsPerCall: number;
}

export const DEFAULT_LIMITS: FlowLimits = { redirectsInARow: 10, redirectsPerCall: 100 };

export interface FlowRunDeps {
  readonly catalog: FlowCatalog;
  readonly speech: SpeechSynthesizer;
  readonly prompts: PromptLoader;
  readonly queues: WaitingQueues | undefined;
  readonly recordingsDir: string;
  readonly sink: FlowEventSink;
  readonly logger: Logger;
  readonly limits: FlowLimits;
  readonly now: () => number;
  /** Counts each verb's outcome (metrics). */
  readonly onVerb?: (verb: Verb['verb'], outcome: string, seconds: number) => void;
}

/** The verbs being run and where they came from. */
interface Doc {
  readonly name: string;
  readonly kind: FlowSourceKind;
  readonly source: FlowSource | undefined;
  readonly verbs: readonly Verb[];
}

export interface FlowOutcome {
  readonly reason: FlowEndReason;
  /** Events emitted during the run. */
  readonly events: number;
}

export class FlowRun {
  readonly #call: FlowCall;
  readonly #deps: FlowRunDeps;
  readonly #log: Logger;
  readonly #digits: DigitStream;
  readonly #transcription: TranscriptionControl;
  #seq = 0;
  #recordings = 0;
  #flow = '';
  #redirectsInARow = 0;
  #redirects = 0;
  /** A hangup verb ended the call (not the caller). */
  #hungUp = false;
  /** The webhook whose status URL gets this call's events (the last one run). */
  #statusSource: FlowSource | undefined;

  constructor(call: FlowCall, deps: FlowRunDeps) {
    this.#call = call;
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'flows', callId: call.context.callId });
    this.#digits = new DigitStream(call);
    this.#transcription = new TranscriptionControl(call, (e) => this.#emit(e));
  }

  async run(start: string | FlowRef): Promise<FlowOutcome> {
    let reason: FlowEndReason;
    try {
      reason = await this.#loop(typeof start === 'string' ? { flow: start } : start);
    } catch (error) {
      this.#log.error({ err: error }, 'flow run failed');
      reason = 'failed';
    } finally {
      await this.#transcription.stop().catch(() => undefined);
      this.#digits.close();
    }
    if (this.#call.ended.aborted) {
      if (reason === 'completed' && !this.#hungUp) reason = 'caller_hangup';
    } else if (reason === 'redirect_loop')
      await this.#call.hangup('flow_redirect_loop').catch(() => undefined);
    else if (reason === 'failed') await this.#call.hangup('internal').catch(() => undefined);
    else await this.#call.hangup('completed').catch(() => undefined);
    this.#emit({ type: 'flow.end', reason });
    return { reason, events: this.#seq };
  }

  async #loop(start: FlowRef): Promise<FlowEndReason> {
    const signal = this.#call.ended;
    let doc = await this.#open(start);
    let index = 0;
    let typeAhead = false;
    while (index < doc.verbs.length && !signal.aborted) {
      const verb = doc.verbs[index] as Verb;
      const started = this.#deps.now();
      this.#emit({ type: 'verb.start', index, verb: verb.verb, options: { ...verb } });
      if (verb.verb === 'redirect') {
        this.#emit({
          type: 'verb.result',
          index,
          verb: 'redirect',
          result: { status: 'redirected', flow: verb.flow },
          ms: 0,
        });
        if (!this.#countRedirect()) return 'redirect_loop';
        doc = await this.#open({ flow: verb.flow });
        index = 0;
        typeAhead = false;
        continue;
      }
      let result: VerbResult | undefined;
      let failure: VerbFailure | undefined;
      try {
        result = await runVerb(verb, this.#context(typeAhead));
      } catch (error) {
        failure = verbFailure(error);
      }
      const ms = this.#deps.now() - started;
      if (result !== undefined) {
        this.#emit({ type: 'verb.result', index, verb: verb.verb, result, ms });
        this.#deps.onVerb?.(verb.verb, result.status, ms / 1000);
      } else {
        failure ??= { code: 'verb_failed', message: 'no result' };
        this.#emit({ type: 'verb.error', index, verb: verb.verb, error: failure, ms });
        this.#deps.onVerb?.(verb.verb, 'error', ms / 1000);
      }
      typeAhead = (verb.verb === 'say' || verb.verb === 'play') && result?.status === 'interrupted';
      if (result !== undefined && callerActed(result)) this.#redirectsInARow = 0;
      if (verb.verb === 'hangup') {
        this.#hungUp = true;
        return 'completed';
      }
      if (signal.aborted) return 'completed';

      const next = await this.#next(doc, verb, index, result, failure);
      if (next === 'loop') return 'redirect_loop';
      if (next) {
        doc = next;
        index = 0;
        typeAhead = false;
      } else {
        index += 1;
      }
    }
    return 'completed';
  }

  /** After a verb: the verbs that replace the rest (queue fallback, actionHook answer), if any. */
  async #next(
    doc: Doc,
    verb: Verb,
    index: number,
    result: VerbResult | undefined,
    failure: VerbFailure | undefined,
  ): Promise<Doc | 'loop' | undefined> {
    if (verb.verb === 'enqueue' && result && 'queue' in result && this.#deps.queues) {
      const status = result.status;
      if (status !== 'bridged' && status !== 'hangup') {
        const ref = this.#deps.queues.fallback(verb.queue, status, index + 1 < doc.verbs.length);
        if (ref) return this.#countRedirect() ? this.#open(ref) : 'loop';
      }
    }
    const hook = 'actionHook' in verb ? verb.actionHook : undefined;
    // A dial of a queue with voicemail that no agent took falls to the queue's box, as an enqueue
    // does (docs/flows.md#dial), unless the flow handles it (verbs after it, an actionHook).
    if (
      verb.verb === 'dial' &&
      verb.target.type === 'queue' &&
      hook === undefined &&
      result !== undefined &&
      (result.status === 'no-answer' || result.status === 'busy' || result.status === 'failed') &&
      this.#deps.queues &&
      !this.#call.ended.aborted
    ) {
      const ref = this.#deps.queues.dialFallback(
        verb.target.queue,
        this.#call.context.tenant,
        index + 1 < doc.verbs.length,
      );
      if (ref) return this.#countRedirect() ? this.#open(ref) : 'loop';
    }
    if (hook === undefined || !doc.source || this.#call.ended.aborted) return undefined;
    if (!this.#countRedirect()) return 'loop';
    const request: FlowRequest = {
      event: 'action',
      flow: doc.name,
      call: this.#call.context,
      verb: { index, name: verb.verb },
      ...(result !== undefined ? { result } : {}),
      ...(failure !== undefined ? { error: failure } : {}),
    };
    const answer = await doc.source.action(hook, request, this.#call.ended);
    // The caller left while the app was asked: its request was cut, which is not the app's failure.
    if (this.#call.ended.aborted) return undefined;
    if (!answer.ok) return this.#fallbackFor(doc.source, answer.reason, answer.detail);
    if (answer.verbs === undefined) return undefined;
    return { ...doc, verbs: answer.verbs };
  }

  /** The verbs of a flow (or of its fallback, when it gives none). */
  async #open(ref: FlowRef): Promise<Doc> {
    if ('builtin' in ref)
      return this.#begin({
        name: ref.builtin,
        kind: 'builtin',
        source: undefined,
        verbs: ref.verbs,
      });
    const source = this.#deps.catalog.get(ref.flow);
    if (!source) {
      this.#flow = ref.flow;
      return this.#failedOver(undefined, 'config', 'flow_not_found', `no flow "${ref.flow}"`);
    }
    if (source.kind === 'webhook') this.#statusSource = source;
    this.#flow = source.name;
    const answer = await source.start(
      { event: 'call', flow: source.name, call: this.#call.context },
      this.#call.ended,
    );
    if (this.#call.ended.aborted)
      return { name: source.name, kind: source.kind, source, verbs: [] };
    if (answer.ok)
      return this.#begin({
        name: source.name,
        kind: source.kind,
        source,
        verbs: answer.verbs ?? [],
      });
    return this.#fallbackFor(source, answer.reason, answer.detail);
  }

  #fallbackFor(source: FlowSource, reason: FlowSourceFailure, detail: string): Promise<Doc> {
    return this.#failedOver(source, source.kind, reason, detail);
  }

  /**
   * A source gave no verbs: its fallback flow runs (a fallback that fails in
   * turn gives the built-in one, never a third try).
   */
  async #failedOver(
    source: FlowSource | undefined,
    kind: FlowSourceKind,
    reason: FlowSourceFailure,
    detail: string,
  ): Promise<Doc> {
    const fallback = source?.fallback;
    const builtin = unavailableFlow('flow_source_failed');
    const name = fallback ?? builtin.builtin;
    this.#emit({ type: 'source.error', source: kind, reason, detail, fallback: name });
    this.#log.warn(
      { flow: this.#flow, reason, detail, fallback: name },
      'flow source failed: running the fallback',
    );
    if (fallback !== undefined && fallback !== source?.name) {
      const next = this.#deps.catalog.get(fallback);
      if (next) {
        this.#flow = next.name;
        const answer = await next.start(
          { event: 'call', flow: next.name, call: this.#call.context },
          this.#call.ended,
        );
        if (answer.ok)
          return this.#begin({
            name: next.name,
            kind: next.kind,
            source: next,
            verbs: answer.verbs ?? [],
          });
        this.#emit({
          type: 'source.error',
          source: next.kind,
          reason: answer.reason,
          detail: answer.detail,
          fallback: 'parley.unavailable',
        });
      }
    }
    return this.#begin({
      name: builtin.builtin,
      kind: 'builtin',
      source: undefined,
      verbs: builtin.verbs,
    });
  }

  #begin(doc: Doc): Doc {
    this.#flow = doc.name;
    this.#emit({ type: 'flow.start', source: doc.kind });
    return doc;
  }

  /** Counts a redirect (or fetched verb list); false once a limit is passed. */
  #countRedirect(): boolean {
    this.#redirectsInARow += 1;
    this.#redirects += 1;
    const { redirectsInARow, redirectsPerCall } = this.#deps.limits;
    if (this.#redirectsInARow <= redirectsInARow && this.#redirects <= redirectsPerCall)
      return true;
    this.#log.warn(
      { inARow: this.#redirectsInARow, total: this.#redirects },
      'redirect loop: ending the call',
    );
    return false;
  }

  #context(typeAhead: boolean): VerbContext {
    const call = this.#call;
    return {
      call,
      digits: this.#digits,
      signal: call.ended,
      speech: this.#deps.speech,
      prompts: this.#deps.prompts,
      transcription: this.#transcription,
      queues: this.#deps.queues,
      typeAhead,
      recordingPath: () => {
        this.#recordings += 1;
        const tenant = call.context.tenant.replace(/[^A-Za-z0-9._-]/g, '_');
        return join(
          this.#deps.recordingsDir,
          tenant,
          `${call.context.callId}-${this.#recordings}.wav`,
        );
      },
      emit: (event) => this.#emit(event),
      now: this.#deps.now,
    };
  }

  #emit(body: EventBody): void {
    this.#seq += 1;
    const event = {
      ...body,
      callId: this.#call.context.callId,
      tenant: this.#call.context.tenant,
      seq: this.#seq,
      at: new Date(this.#deps.now()).toISOString(),
      flow: this.#flow,
    } as FlowEvent;
    try {
      this.#deps.sink.event(event);
    } catch (error) {
      this.#log.warn({ err: error }, 'flow event sink failed');
    }
    this.#statusSource?.status?.(event);
  }
}

/** The caller did something: a key, a message, a conversation. Redirect loops count from here. */
function callerActed(result: VerbResult): boolean {
  if ('digits' in result) return result.digits !== '' || result.finishedBy === 'finishOnKey';
  if ('endedBy' in result) return result.durationSeconds > 0;
  if ('plays' in result) return result.status === 'interrupted';
  return result.status === 'answered' || result.status === 'bridged';
}
