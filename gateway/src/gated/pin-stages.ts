/**
 * The Gate's stages that take a resident's PIN: the sign-in on a resident app,
 * and the PIN given for a ringing call (on the app before its 200 OK, or keyed
 * on a SIP phone after it answered). Each one asks the PIN lockouts first
 * (`pins/pin-checks.ts`: the device's, the resident's), refuses a PIN of the
 * wrong shape itself, lets the decider check the rest, settles the try with
 * its verdict and records the decision. `gate.ts` keeps the pending calls
 * and tickets around them.
 */
import type { GatedTenantConfig } from '../config/index.js';
import type { Verdict } from './auth/authenticator.js';
import type { Decider } from './auth/decider.js';
import { refusal } from './auth/verdicts.js';
import type { GateDecision } from './decision.js';
import type { DecisionBase, DecisionLog } from './decision-log.js';
import type { DevicePresence } from './devices/device-presence.js';
import type { PinResult } from './gate-results.js';
import type { PendingCall } from './pending-calls.js';
import type { PinChecks, PinRefused } from './pins/pin-checks.js';
import { pinSubject } from './pins/pin-guard.js';

export interface PinStagesOptions {
  readonly decider: Decider;
  readonly decisions: DecisionLog;
  readonly pinChecks: PinChecks;
  readonly presence: DevicePresence;
  /** The gated tenant's settings (throws for a tenant that is not gated). */
  readonly settings: (tenant: string) => GatedTenantConfig;
  readonly now: () => number;
}

export class PinStages {
  readonly #o: PinStagesOptions;

  constructor(options: PinStagesOptions) {
    this.#o = options;
  }

  /** The sign-in on a resident app (`Gate.signIn`): allowed, the app is active for the resident. */
  async signIn(
    tenant: string,
    device: string,
    input: { readonly resident?: string | undefined; readonly pin: string },
  ): Promise<PinResult> {
    const { decider, decisions, pinChecks } = this.#o;
    const started = process.hrtime.bigint();
    const settings = this.#o.settings(tenant);
    const base = { tenant, callId: null, stage: 'sign-in' as const };
    const subjects = [pinSubject.device(tenant, device)];
    if (input.resident !== undefined) subjects.push(pinSubject.resident(tenant, input.resident));
    const gate = await pinChecks.begin(subjects, settings);
    if (!gate.ok) return this.#locked(base, gate, started);
    if (!pinChecks.wellFormed(input.pin, settings)) {
      await gate.attempt.failed();
      return {
        ok: false,
        code: 'pin_refused',
        decision: await this.refused(base, refusal('resident_pin', 'not a PIN'), started),
      };
    }
    const decided = await decider.decide(tenant, (a) =>
      a.signIn({ tenant, device, resident: input.resident, pin: input.pin }),
    );
    await pinChecks.settle(gate.attempt, decided);
    const decision = await decisions.record(base, decided.verdict, decided.decidedBy, started);
    if (!decision.allowed || decision.residentId === null)
      return { ok: false, code: 'pin_refused', decision };
    this.#o.presence.signIn(tenant, device, {
      residentId: decision.residentId,
      until: this.#o.now() + settings.signInMinutes * 60_000,
    });
    return { ok: true, decision };
  }

  /** The resident PIN stages (device-pin, reverify by DTMF), behind the device and resident lockouts. */
  async residentPin(
    base: DecisionBase & { readonly callId: string; readonly stage: 'device-pin' | 'reverify' },
    { accountId, residentId }: PendingCall,
    device: string,
    pin: string,
    started: bigint,
  ): Promise<PinResult> {
    const { decider, decisions, pinChecks } = this.#o;
    const settings = this.#o.settings(base.tenant);
    const gate = await pinChecks.begin(
      [pinSubject.device(base.tenant, device), pinSubject.resident(base.tenant, residentId)],
      settings,
    );
    if (!gate.ok) return this.#locked(base, gate, started);
    if (!pinChecks.wellFormed(pin, settings)) {
      await gate.attempt.failed();
      const d = await this.refused(
        base,
        refusal('resident_pin', 'not a PIN', { accountId, residentId }),
        started,
      );
      return { ok: false, code: 'pin_refused', decision: d };
    }
    const decided = await decider.decide(base.tenant, (a) =>
      a.verifyResident({ ...base, accountId, residentId, device, pin }),
    );
    await pinChecks.settle(gate.attempt, decided);
    const decision = await decisions.record(base, decided.verdict, decided.decidedBy, started);
    return decision.allowed ? { ok: true, decision } : { ok: false, code: 'pin_refused', decision };
  }

  /** A refusal the Gate makes itself (before or instead of asking the authenticator). */
  refused(base: DecisionBase, verdict: Verdict, started: bigint): Promise<GateDecision> {
    return this.#o.decisions.record(base, verdict, 'builtin', started);
  }

  async #locked(
    base: DecisionBase,
    gate: PinRefused,
    started: bigint,
  ): Promise<Extract<PinResult, { ok: false }>> {
    return {
      ok: false,
      code: 'pin_locked',
      retryAfterMs: gate.retryAfterMs,
      decision: await this.refused(base, this.#o.pinChecks.lockedVerdict(gate), started),
    };
  }
}
