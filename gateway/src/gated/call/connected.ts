/**
 * A verified gated call's first minute, charged as its meter starts, before
 * the caller and the device are joined. The meter's start is idempotent by
 * call id (a second start answers the first's charge as a duplicate), so a
 * start that failed, possibly after its commit landed unseen (a lost reply,
 * PostgreSQL restarting), is tried once more before the call is refused:
 * most such failures are then seen for what they were. One that fails twice
 * is refused and its meter closed; a first minute whose commit landed unseen
 * both times stays charged on that closed meter (logged here). Then, once
 * connected, the Gate's rechecks.
 */
import type { Call } from '../../calls/index.js';
import type { Logger } from '../../observability/index.js';
import type { GateDecision } from '../decision.js';
import type { Gate } from '../gate.js';
import type { Meter, MeterStart } from '../meter.js';

/** Before the one new try. */
const RETRY_MS = 500;

/** The meter's answer; undefined when the store could not say (twice). */
export async function chargeFirstMinute(
  meter: Meter,
  call: Call,
  verdict: GateDecision & { readonly accountId: string },
  log: Logger,
): Promise<MeterStart | undefined> {
  const start = () =>
    meter.start({
      callId: call.id,
      tenant: call.tenant,
      accountId: verdict.accountId,
      ratePerMinute: verdict.ratePerMinute ?? 0,
    });
  try {
    return await start();
  } catch (first) {
    log.warn({ err: first }, 'the first minute could not be charged: trying once more');
  }
  await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  try {
    return await start();
  } catch (err) {
    log.error(
      { err, accountId: verdict.accountId },
      'the first minute could not be charged: call refused (a charge that landed unseen stays on its closed meter)',
    );
    return undefined;
  }
}

/**
 * Asks the Gate about a connected call every `seconds` (0: never) and calls
 * `refused` when it no longer allows it. A recheck that could not be made
 * (the database away) keeps the call: the next one decides. Returns the
 * timer to clear when the call ends.
 */
export function startRechecks(
  gate: Pick<Gate, 'recheck'>,
  callId: string,
  seconds: number,
  refused: (failed: GateDecision['failed']) => void,
  log: Logger,
): NodeJS.Timeout | undefined {
  if (seconds <= 0) return undefined;
  return setInterval(() => {
    gate.recheck(callId).then(
      (decision) => {
        if (!decision.allowed) refused(decision.failed);
      },
      (err: unknown) => log.warn({ err }, 'gated call recheck failed'),
    );
  }, seconds * 1000);
}
