/**
 * Flows on real calls, built once for the composition root: the flow runner
 * (`flows/`) with flite behind its speech port, queueing (`queues/`) behind
 * `enqueue`, the flow events stored with the call record, and the trunks'
 * call hook: an accepted call to a DID becomes a call of the call manager
 * (no token, nothing rung) on which the DID's flow runs through a
 * {@link CallFlow}. `runOn(call, flow)` runs any flow on any call the same
 * way (the hook other modules, voicemail and callbacks, connect to).
 */
import { ParleyError } from '@parley/shared/errors';
import type { FlowEvent, GateResult } from '@parley/shared/protocol';
import type { AgentDirectory } from '../../agents/index.js';
import type { Config } from '../../config/index.js';
import {
  createFlowRunner,
  fanOut,
  type Audio,
  type FlowOutcome,
  type FlowCall,
  type FlowRef,
  type GateOptions,
  type FlowEventSink,
  type FlowEventStore,
  type FlowRunner,
  type SpeechSynthesizer,
} from '../../flows/index.js';
import { DecodedPrompts, type MediaApps } from '../../media/apps/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import {
  DirectoryQueueAgents,
  flowMetricsSink,
  observeQueues,
  QueueService,
  queueDefinitions,
  type QueueChanges,
  type QueueState,
} from '../../queues/index.js';
import { queueSettings } from '../../routing/index.js';
import { refuse } from '../../sbc/refusal.js';
import type { SipStack } from '../../sip/index.js';
import type { Speech } from '../../speech/index.js';
import type { InboundTrunkCall, Trunks } from '../../trunks/index.js';
import type { CallManager } from '../call-manager.js';
import type { Call } from '../call.js';
import { CallFlow, type FlowGateHook, type FlowVoicemailHook } from './flow-call.js';
import { TargetDialer } from './dial-targets.js';
import type { TrackedCalls } from './tracked-calls.js';

export interface TelephonyDeps {
  readonly config: Config;
  /** Where the flows' events are stored: SQLite, or the cluster's PostgreSQL (`wiring/stores.ts`). */
  readonly events: FlowEventStore;
  readonly stack: SipStack;
  readonly agents: AgentDirectory;
  readonly trunks: Trunks;
  readonly calls: CallManager;
  readonly apps: MediaApps;
  readonly speech: Speech;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Marketplace tracking numbers: asked before a DID's own flow runs. */
  readonly tracked?: TrackedCalls | undefined;
  /** Who waits in the queues: this process's memory, or the cluster's Redis. */
  readonly queueState: QueueState;
  /** With the cluster's Redis: queue changes told to and heard from the other gateways. */
  readonly queueChanges?: QueueChanges | undefined;
}

/**
 * An application some tenants' DID calls reach from their flow's `gate` verb
 * (the gated facilities' phone path, docs/gated.md): it drives the call
 * through the same `FlowCall` port and speech as the verbs do.
 */
export interface TrunkCallApp {
  /** Whether `tenant`'s DID calls may run `gate` (its flows get the verb's port). */
  handlesTrunk(tenant: string): boolean;
  /** Runs the call from the `gate` verb; resolves when the call is over. */
  runTrunk(
    call: Call,
    port: FlowCall,
    speech: SpeechSynthesizer,
    options: GateOptions,
  ): Promise<GateResult>;
}

export class Telephony {
  readonly runner: FlowRunner;
  readonly queues: QueueService;
  readonly events: FlowEventStore;
  readonly #deps: TelephonyDeps;
  readonly #sinks: Set<FlowEventSink>;
  readonly #dialer: TargetDialer;
  readonly #prompts = new DecodedPrompts();
  readonly #log: Logger;
  readonly #unobserve: () => void;
  readonly #speech: SpeechSynthesizer;
  /** The calls a flow ran on: only theirs have events to read. */
  readonly #ranFlow = new WeakSet<Call>();
  #app: TrunkCallApp | undefined;
  #voicemail: FlowVoicemailHook | undefined;
  #closed = false;

  private constructor(
    deps: TelephonyDeps,
    parts: {
      runner: FlowRunner;
      queues: QueueService;
      agents: DirectoryQueueAgents;
      events: FlowEventStore;
      sinks: Set<FlowEventSink>;
      unobserve: () => void;
    },
  ) {
    this.#sinks = parts.sinks;
    this.#deps = deps;
    this.runner = parts.runner;
    this.queues = parts.queues;
    this.events = parts.events;
    this.#unobserve = parts.unobserve;
    this.#log = deps.logger.child({ module: 'telephony' });
    this.#speech = fliteSpeech(deps.speech);
    const { config } = deps;
    const settings = queueSettings(config.queues);
    this.#dialer = new TargetDialer({
      stack: deps.stack,
      agents: deps.agents,
      trunks: deps.trunks,
      domain: config.sip.domain,
      logger: this.#log,
      tenantName: (tenant) => config.tenants[tenant]?.name,
      wrapUpSeconds: (queue) =>
        queue !== undefined && config.queues[queue] ? settings(queue).wrapUpSeconds : 0,
      queueCandidates: (queue, tier) => parts.agents.candidates(queue, tier),
      ...(deps.now ? { now: deps.now } : {}),
    });
    deps.trunks.setCallHook((call, invite, tx) => void this.#trunkCall(call, invite, tx));
  }

  static async create(deps: TelephonyDeps): Promise<Telephony> {
    const { config, metrics, logger } = deps;
    const settings = queueSettings(config.queues);
    const agents = new DirectoryQueueAgents(
      deps.agents,
      (name) => {
        const q = config.queues[name];
        return q ? { tenant: q.tenant, routing: settings(name).routing } : undefined;
      },
      deps.now,
    );
    const queues = new QueueService({
      queues: queueDefinitions(config),
      state: deps.queueState,
      changes: deps.queueChanges,
      agents,
      logger,
      ...(deps.now ? { now: deps.now } : {}),
    });
    const { events } = deps;
    // Sinks added later (`addSink`: the desk, wired after the applications).
    const sinks = new Set<FlowEventSink>();
    const onError = (error: unknown) => logger.error({ err: error }, 'a flow event sink failed');
    const late: FlowEventSink = { event: (e) => fanOut([...sinks], onError).event(e) };
    const runner = await createFlowRunner(config, {
      speech: fliteSpeech(deps.speech),
      queues,
      sink: fanOut([events, flowMetricsSink(metrics), late], onError),
      logger,
    });
    const unobserve = observeQueues(queues, metrics);
    return new Telephony(deps, { runner, queues, agents, events, sinks, unobserve });
  }

  /** Another place every flow event goes to (the desks, `desk/flow-feed.ts`); returns the removal. */
  addSink(sink: FlowEventSink): () => void {
    this.#sinks.add(sink);
    return () => this.#sinks.delete(sink);
  }

  /**
   * Runs `flow` on `call` until it ends (the flow hangs up at its end).
   * `trunkCodecs`: the codecs the gateway may answer with, in order.
   */
  runOn(
    call: Call,
    flow: string | FlowRef,
    trunkCodecs?: readonly string[],
  ): { readonly flowCall: CallFlow; readonly done: Promise<FlowOutcome> } {
    const app = this.#app;
    // A gated facility's DID calls (and theirs only) may go through its Gate.
    const gate =
      call.callerView.trunk && app?.handlesTrunk(call.tenant) === true
        ? (c: Call, port: FlowCall, options: GateOptions) =>
            app.runTrunk(c, port, this.#speech, options)
        : undefined;
    const flowCall = this.#flowCall(call, trunkCodecs, gate);
    this.#ranFlow.add(call);
    return { flowCall, done: this.runner.run(flowCall, flow) };
  }

  /**
   * The stored events of the flows run on `call` (this gateway runs the flows
   * of the calls it owns). A call no flow ran on has none: not asked of the
   * database, since the desk asks for every call it rings.
   */
  flowEventsOf(call: Call): Promise<FlowEvent[]> {
    return this.#ranFlow.has(call) ? this.events.list(call.id) : Promise.resolve([]);
  }

  /** The application behind the `gate` verb of some tenants' calls (one at most). */
  setTrunkApp(app: TrunkCallApp | undefined): void {
    this.#app = app;
  }

  /** The `voicemail` verb, and a `dial` of an agent who did not answer (the voicemail module, docs/voicemail.md). */
  setVoicemail(voicemail: FlowVoicemailHook | undefined): void {
    this.#voicemail = voicemail;
  }

  #flowCall(call: Call, trunkCodecs: readonly string[] | undefined, gate?: FlowGateHook): CallFlow {
    return new CallFlow(
      call,
      {
        apps: this.#deps.apps,
        prompts: this.#prompts,
        transcriber: this.#deps.speech.transcriber,
        dialer: this.#dialer,
        voicemail: (c, box, media) =>
          this.#voicemail?.(c, box, media) ?? Promise.resolve({ status: 'unavailable' }),
        trunkCodecs,
        gate,
      },
      null,
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unobserve();
    this.#sinks.clear();
    this.queues.close();
  }

  async #trunkCall(
    tc: InboundTrunkCall,
    invite: Parameters<Parameters<Trunks['setCallHook']>[0]>[1],
    tx: Parameters<Parameters<Trunks['setCallHook']>[0]>[2],
  ): Promise<void> {
    const tracked = await this.#deps.tracked?.route({
      called: tc.called,
      callerNumber: tc.caller.kind === 'number' ? tc.caller.number : null,
      at: (this.#deps.now ?? Date.now)(),
    });
    if (tracked?.kind === 'refuse') {
      tc.slot.release();
      refuse(this.#deps.stack, tx, { code: tracked.code, detail: tracked.detail });
      return;
    }
    const call = await this.#deps.calls.admitTrunk({
      invite,
      tx,
      flow: tx.flow,
      trunk: {
        trunk: tc.trunk,
        tenant: tc.tenant,
        called: tc.called,
        callerNumber: tc.caller.kind === 'number' ? tc.caller.number : null,
        flow: tc.flow,
        release: () => tc.slot.release(),
      },
    });
    if (!call || call.ending) return;
    if (tracked) tracked.attach(call);
    const { done } = this.runOn(call, tracked ? tracked.flow : tc.flow, tc.codecs);
    const outcome = await done;
    this.#log.info({ callId: call.id, flow: tc.flow, outcome }, 'trunk call flow ended');
  }
}

/** The flows' speech port over flite's cache: a WAV file on disk. */
function fliteSpeech(speech: Speech): SpeechSynthesizer {
  return {
    async synthesize(text, voice, signal): Promise<Audio> {
      try {
        const audio = await speech.tts.synthesize(text, {
          ...(voice !== undefined ? { voice } : {}),
          signal,
        });
        return { kind: 'file', path: audio.path };
      } catch (error) {
        throw new ParleyError(
          'prompt_unavailable',
          `cannot speak the text: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
  };
}
