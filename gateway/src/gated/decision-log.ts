/**
 * Every answer of the Gate becomes a decision here: its checks and the one
 * that failed, who decided, how long it took, and the outward answer (proceed,
 * or the tenant's not-available prompt with the one refusal code). Each is
 * stored for the facility, counted (`parley_gated_decisions_total`, the
 * decision-time histogram) and logged; the caller only ever gets the outward
 * answer.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/index.js';
import type { Verdict } from './auth/authenticator.js';
import type { GateDecision, GateStage } from './decision.js';
import type { GatedMetrics } from './metrics.js';
import type { GatedStore } from './store/index.js';

/** What a decision is about: the tenant, the call (null for a sign-in) and the stage. */
export interface DecisionBase {
  readonly tenant: string;
  readonly callId: string | null;
  readonly stage: GateStage;
}

export interface DecisionLogOptions {
  readonly store: GatedStore;
  readonly metrics: GatedMetrics;
  readonly logger: Logger;
  /** The tenant's not-available prompt (a tenant that is not gated: the default words). */
  readonly notAvailable: (tenant: string) => string;
  readonly now: () => number;
}

export class DecisionLog {
  readonly #o: DecisionLogOptions;

  constructor(options: DecisionLogOptions) {
    this.#o = options;
  }

  /** Makes, stores, counts and logs the decision of `verdict`; `started` is `process.hrtime.bigint()`. */
  async record(
    base: DecisionBase,
    verdict: Verdict,
    decidedBy: GateDecision['decidedBy'],
    started: bigint,
  ): Promise<GateDecision> {
    // The last failing check decided (a failed facility server comes first, then the built-in checks).
    const failed = verdict.allowed
      ? null
      : (verdict.checks.findLast((c) => !c.ok)?.name ?? 'authenticator');
    const durationUs = Number((process.hrtime.bigint() - started) / 1000n);
    const decision: GateDecision = {
      id: randomUUID(),
      ...base,
      at: this.#o.now(),
      allowed: verdict.allowed,
      decidedBy,
      checks: verdict.checks,
      failed,
      accountId: verdict.accountId,
      residentId: verdict.residentId,
      devices: verdict.devices,
      callerName: verdict.callerName,
      ratePerMinute: verdict.ratePerMinute,
      balance: verdict.balance,
      outward: verdict.allowed
        ? { kind: 'proceed' }
        : {
            kind: 'not_available',
            code: 'callee_not_available',
            prompt: this.#o.notAvailable(base.tenant),
          },
      durationUs,
    };
    const { outward: _outward, ...record } = decision;
    await this.#o.store.decisions.insert(record);
    this.#o.metrics.decisions.inc({
      tenant: base.tenant,
      stage: base.stage,
      result: decision.allowed ? 'allowed' : 'refused',
      failed: failed ?? '',
    });
    this.#o.metrics.decisionSeconds.observe(
      { stage: base.stage, decided_by: decidedBy },
      durationUs / 1e6,
    );
    const fields = {
      tenant: base.tenant,
      callId: base.callId,
      stage: base.stage,
      decision: decision.id,
    };
    if (decision.allowed) this.#o.logger.debug(fields, 'gated decision: allowed');
    else
      this.#o.logger.info(
        { ...fields, failed, detail: verdict.checks.find((c) => !c.ok)?.detail },
        'gated decision: refused',
      );
    return decision;
  }
}
