/**
 * Where a flow's verbs come from: the config (fixed verbs), a company's
 * webhook, or a company's ES module. Webhooks and modules are asked the same
 * way (a {@link FlowRequest}) and answer the same way (verbs), first when the
 * flow starts and then after each verb that has an `actionHook`, with its
 * result (TwiML's action URLs). A source that gives no usable verbs says why;
 * the runner then runs its fallback flow and records the reason.
 */
import type {
  FlowEvent,
  FlowSourceFailure,
  FlowSourceKind,
  VerbFailure,
  VerbName,
  VerbResult,
} from '@parley/shared/protocol';
import type { FlowCallContext } from '../ports.js';
import type { Verb } from '../verbs/schema.js';

/** The body of a webhook request, and the argument of a module's function. */
export interface FlowRequest {
  /** `call`: the flow starts; `action`: a verb with an actionHook finished. */
  readonly event: 'call' | 'action';
  readonly flow: string;
  readonly call: FlowCallContext;
  /** With `action`: the verb that finished. */
  readonly verb?: { readonly index: number; readonly name: VerbName };
  /** With `action`: its result, or its error when it could not run. */
  readonly result?: VerbResult;
  readonly error?: VerbFailure;
}

/** Verbs, or why there are none. `verbs: undefined` (only after an action): go on with the rest. */
export type SourceAnswer =
  | { readonly ok: true; readonly verbs: readonly Verb[] | undefined }
  | { readonly ok: false; readonly reason: FlowSourceFailure; readonly detail: string };

export interface FlowSource {
  readonly name: string;
  readonly kind: FlowSourceKind;
  /** The flow that runs when this one gives no usable verbs (else the built-in one). */
  readonly fallback: string | undefined;
  /** The first verbs for a call. */
  start(request: FlowRequest, signal: AbortSignal): Promise<SourceAnswer>;
  /** A verb with `actionHook` finished: verbs that replace the rest of the flow. */
  action(hook: true | string, request: FlowRequest, signal: AbortSignal): Promise<SourceAnswer>;
  /** Status callback: every event of a call that runs this source (webhooks only). Never throws. */
  status?(event: FlowEvent): void;
}

/** A flow of verbs written in the config. */
export function configSource(name: string, verbs: readonly Verb[]): FlowSource {
  const answer: SourceAnswer = { ok: true, verbs };
  return {
    name,
    kind: 'config',
    fallback: undefined,
    start: () => Promise.resolve(answer),
    // Config flows have no app to ask (the config refuses actionHook there).
    action: () => Promise.resolve({ ok: true, verbs: undefined }),
  };
}
