/**
 * Callbacks a stop left in progress, ended (this gateway's at start, a lost
 * one's on a survivor, `lost.ts`): connected ones are charged (once: the
 * key) and `completed`, the others `interrupted`. Each record is closed on
 * its own: one that fails (the store unreachable) does not lose the others'
 * legs, whose end is written and which the next try would find ended.
 */
import type { StoredInvite } from '../calls/index.js';
import type { Logger } from '../observability/index.js';
import type { InterruptedCall } from '../storage/index.js';
import type { CallbackFees } from './fee.js';
import type { CallbackRecord } from './model.js';
import type { CallbackStore } from './store.js';

/**
 * What a close ended: the legs to hang up and the INVITEs to cancel of the
 * records this call ended (not another survivor), and the first error of
 * those it could not (tried again: next start, next sweep), if any.
 */
export interface ClosedCallbacks {
  readonly interrupted: InterruptedCall[];
  readonly ringing: StoredInvite[];
  readonly error?: unknown;
}

export interface InterruptedDeps {
  readonly store: CallbackStore;
  readonly fees: CallbackFees;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Charges a connected callback (once: the key); a failure is logged, tried again at the next start. */
export async function chargeOwed(deps: InterruptedDeps, record: CallbackRecord) {
  try {
    return await deps.fees.charge(record);
  } catch (error) {
    deps.logger.error({ err: error, callback: record.id }, 'callback fee not charged yet');
    return record;
  }
}

/** Ends `records` (each on its own; see {@link ClosedCallbacks}). */
export async function closeInterrupted(
  deps: InterruptedDeps,
  records: readonly CallbackRecord[],
): Promise<ClosedCallbacks> {
  const interrupted: InterruptedCall[] = [];
  const ringing: StoredInvite[] = [];
  let failed: { error: unknown } | undefined;
  for (const record of records) {
    try {
      let r = record;
      // Connected before the stop: the fee is owed (charge() is a no-op when it was charged).
      if (r.connectedAt !== null) r = await chargeOwed(deps, r);
      const at = deps.now();
      const end: CallbackRecord = {
        ...r,
        state: 'ended',
        outcome: r.connectedAt !== null ? 'completed' : 'interrupted',
        code: r.connectedAt !== null ? null : 'callback_interrupted',
        dialogs: [],
        ringing: [],
        updatedAt: at,
        endedAt: at,
      };
      if (!(await endIf(deps, end, record.state))) continue;
      if (r.dialogs.length > 0) interrupted.push({ id: r.id, dialogs: r.dialogs });
      ringing.push(...r.ringing);
    } catch (error) {
      deps.logger.error({ err: error, callback: record.id }, 'interrupted callback not closed yet');
      failed ??= { error };
    }
  }
  return failed ? { interrupted, ringing, error: failed.error } : { interrupted, ringing };
}

/**
 * `saveIf` of an interrupted callback's end. An error may hide a write
 * that landed (its answer lost): the row read again tells (this very end,
 * its time and outcome), else the error stands and the close is tried
 * again (next start, next sweep). Landed and taken for failed, the next
 * try would find it ended and its legs would never get their BYE.
 */
async function endIf(
  deps: InterruptedDeps,
  end: CallbackRecord,
  from: CallbackRecord['state'],
): Promise<boolean> {
  try {
    return await deps.store.saveIf(end, from);
  } catch (error) {
    const stored = await deps.store.get(end.id).catch(() => undefined);
    const mine =
      stored?.state === 'ended' &&
      stored.endedAt === end.endedAt &&
      stored.updatedAt === end.updatedAt &&
      stored.outcome === end.outcome;
    if (!mine) throw error;
    deps.logger.warn({ callback: end.id }, 'callback end’s answer lost: the row says it landed');
    return true;
  }
}
