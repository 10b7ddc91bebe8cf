/**
 * `gate`: hands the call to a gated facility's call path (docs/gated.md,
 * "Phone callers on a DID"); the call's adapter runs it (`FlowCall.gate`).
 * The flow learns only connected, refused or hangup: which check refused
 * the caller is in the Gate's stored decisions, never in the flow's events.
 */
import { ParleyError } from '@parley/shared/errors';
import type { VerbContext } from '../runtime/verb-context.js';
import type { GateResult } from './results.js';
import type { GateVerb } from './schema.js';

export async function gate(verb: GateVerb, ctx: VerbContext): Promise<GateResult> {
  if (!ctx.call.gate)
    throw new ParleyError('verb_failed', "this call's tenant is not a gated facility");
  if (ctx.signal.aborted) return { status: 'hangup' };
  // Type-ahead as `gather` has it: the keys after an interrupted prompt go to the gate's gathers.
  const typedAhead = ctx.typeAhead ? [...ctx.digits.buffered] : [];
  ctx.digits.clear();
  return ctx.call.gate({
    ...(verb.resident === undefined ? {} : { resident: verb.resident }),
    ...(typedAhead.length > 0 ? { typedAhead } : {}),
  });
}
