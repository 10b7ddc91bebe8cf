/**
 * Runs flows on calls: the one object the composition root builds for flows.
 * `run(call, flow)` executes a flow (by name, or built-in verbs) on a call
 * through the {@link FlowCall} port until the verbs run out, a `hangup`
 * verb, or the caller leaves; every step becomes an event for the record,
 * the desk and the webhook.
 */
import type { Logger } from '../observability/index.js';
import type { FlowEventSink } from './events.js';
import type { FlowCall, SpeechSynthesizer } from './ports.js';
import type { FlowRef, WaitingQueues } from './queue-port.js';
import { DEFAULT_LIMITS, FlowRun, type FlowLimits, type FlowOutcome } from './run.js';
import type { PromptLoader } from './runtime/prompts.js';
import type { FlowCatalog } from './sources/catalog.js';
import type { Verb } from './verbs/schema.js';

export interface FlowRunnerOptions {
  readonly catalog: FlowCatalog;
  readonly speech: SpeechSynthesizer;
  readonly prompts: PromptLoader;
  /** Queueing, for `enqueue` (without it the verb fails with verb_failed). */
  readonly queues?: WaitingQueues | undefined;
  /** Recordings go under here, one directory per tenant. */
  readonly recordingsDir: string;
  readonly sink: FlowEventSink;
  readonly logger: Logger;
  readonly limits?: Partial<FlowLimits>;
  readonly now?: () => number;
  readonly onVerb?: (verb: Verb['verb'], outcome: string, seconds: number) => void;
}

export class FlowRunner {
  readonly #options: FlowRunnerOptions;
  readonly #limits: FlowLimits;
  readonly #running = new Set<Promise<FlowOutcome>>();

  constructor(options: FlowRunnerOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /** Flows running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Whether a flow of this name is configured. */
  has(flow: string): boolean {
    return this.#options.catalog.has(flow);
  }

  /**
   * Runs `flow` on `call` to its end. Never rejects: a failure is an event
   * and the call is hung up.
   */
  run(call: FlowCall, flow: string | FlowRef): Promise<FlowOutcome> {
    const o = this.#options;
    const run = new FlowRun(call, {
      catalog: o.catalog,
      speech: o.speech,
      prompts: o.prompts,
      queues: o.queues,
      recordingsDir: o.recordingsDir,
      sink: o.sink,
      logger: o.logger,
      limits: this.#limits,
      now: o.now ?? Date.now,
      ...(o.onVerb ? { onVerb: o.onVerb } : {}),
    });
    const done = run.run(flow);
    this.#running.add(done);
    void done.finally(() => this.#running.delete(done));
    return done;
  }
}
