/**
 * The Gate's PIN rules around any authenticator: a PIN of the tenant's shape
 * (`pin.minLength`–`pin.maxLength` digits), a try reserved on the lockout
 * subjects before the PIN is checked (`PinGuard`, with the tenant's
 * `pin.maxFailures`, `pin.delayMs`, `pin.lockoutMinutes`), and the try
 * settled by the verdict: a wrong PIN (or account number) counts, a right one
 * clears, a facility server that failed to answer gives the try back. Wrong
 * PINs and lockouts are counted (`parley_gated_pin_failures_total`,
 * `parley_gated_pin_lockouts_total`) and a lockout is logged.
 */
import type { GatedTenantConfig } from '../../config/index.js';
import type { Logger } from '../../observability/index.js';
import type { Decided } from '../auth/decider.js';
import type { Verdict } from '../auth/authenticator.js';
import { refusal } from '../auth/verdicts.js';
import type { CheckName } from '../decision.js';
import type { GatedMetrics } from '../metrics.js';
import type { PinAttemptStore } from '../store/index.js';
import { PinGuard, type PinAttempt, type PinGateAnswer } from './pin-guard.js';

/** A subject that takes no PIN now (locked out, or waiting after a wrong one). */
export type PinRefused = Extract<PinGateAnswer, { ok: false }>;

/** Checks whose failure is a wrong PIN (or account number) and counts toward a lockout. */
const PIN_CHECKS: ReadonlySet<CheckName> = new Set([
  'caller_account',
  'account_pin',
  'resident_pin',
  'resident_pin_device',
]);

export interface PinChecksOptions {
  readonly store: PinAttemptStore;
  readonly metrics: GatedMetrics;
  readonly logger: Logger;
  readonly now: () => number;
}

export class PinChecks {
  readonly #guard: PinGuard;

  constructor(options: PinChecksOptions) {
    const kind = (subject: string): string => subject.split(':')[0] ?? 'unknown';
    this.#guard = new PinGuard({
      store: options.store,
      now: options.now,
      onFailure: (subject) => options.metrics.pinFailures.inc({ subject: kind(subject) }),
      onLockout: (subject, until) => {
        options.metrics.pinLockouts.inc({ subject: kind(subject) });
        options.logger.warn(
          { subject, until: new Date(until).toISOString() },
          'PIN lockout: too many wrong PINs',
        );
      },
    });
  }

  /** Reserves a try on every subject under the tenant's policy, or says which one refuses. */
  begin(subjects: readonly string[], settings: GatedTenantConfig): Promise<PinGateAnswer> {
    return this.#guard.begin(subjects, {
      maxFailures: settings.pin.maxFailures,
      delayMs: settings.pin.delayMs,
      lockoutMs: settings.pin.lockoutMinutes * 60_000,
    });
  }

  /** Digits only, of the tenant's length: anything else is a wrong PIN without asking anyone. */
  wellFormed(pin: string, settings: GatedTenantConfig): boolean {
    return (
      pin.length >= settings.pin.minLength &&
      pin.length <= settings.pin.maxLength &&
      /^\d+$/.test(pin)
    );
  }

  /**
   * Counts a reserved PIN try: a wrong PIN (or account number) fails it; a
   * right one clears the counts; a facility server that failed to answer says
   * nothing about the PIN, so the try is given back.
   */
  async settle(attempt: PinAttempt | undefined, decided: Decided): Promise<void> {
    if (!attempt) return;
    const { verdict, decidedBy, hookFailed } = decided;
    if (hookFailed && decidedBy === 'http') {
      attempt.abandon();
      return;
    }
    const failed = verdict.checks.findLast((c) => !c.ok)?.name;
    const wrongPin =
      failed !== undefined &&
      (PIN_CHECKS.has(failed) || (decidedBy === 'http' && failed === 'authenticator'));
    if (wrongPin) await attempt.failed();
    else if (
      verdict.allowed ||
      verdict.checks.some((c) => c.ok && (c.name === 'account_pin' || c.name === 'resident_pin'))
    )
      await attempt.succeeded();
    else attempt.abandon();
  }

  /** The refusal of a PIN not even checked: the subject, locked or waiting, and for how long. */
  lockedVerdict(refused: PinRefused): Verdict {
    const seconds = Math.ceil(refused.retryAfterMs / 1000);
    return refusal(
      'pin_lockout',
      `${refused.subject} ${refused.locked ? 'locked' : 'waiting'}, ${seconds} s`,
    );
  }
}
