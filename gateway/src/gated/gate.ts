/**
 * The Gate: the authenticating server as the call path sees it (S4). One
 * question per stage, one stored decision per answer:
 *
 * ```
 *  authorize(ctx) ──allowed──▶ ring decision.devices (caller's name shown)
 *        │                         │ app: devicePin(callId, device, pin) → ticket, 200 OK carries it
 *        │                         │ SIP phone: answers; the call path collects the PIN by DTMF
 *        │                         ▼
 *        │                  reverify(callId, { device, pin | ticket }) ──allowed──▶ connect, meter.start
 *        │                         │                                                 │ recheck(callId) every reverifyIntervalSeconds
 *        ▼                         ▼                                                 ▼
 *   not_available prompt     wrong PIN: the device again (dtmfPinAttempts), else not_available      forget(callId) at the end
 * ```
 *
 * Whoever decides (the built-in checks or the facility's server), the Gate
 * applies the PIN lockouts, keeps the pending calls and tickets, records every
 * decision with its checks, counts and logs, and answers the caller only
 * "proceed" or "not available". Its parts, one job each: who decides
 * (`auth/decider.ts`), the PIN rules and lockouts (`pins/pin-checks.ts`),
 * the stored decisions (`decision-log.ts`), the pending calls and tickets
 * (`pending-calls.ts`), and the devices' credentials and registrations
 * for the registrar (`devices/device-access.ts`); this file is the stages.
 */
import type { GatedPrompts, GatedTenantConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { AuthorizeContext, Verdict } from './auth/authenticator.js';
import { Decider } from './auth/decider.js';
import { refusal, withTicket } from './auth/verdicts.js';
import type { GateDecision } from './decision.js';
import { DecisionLog, type DecisionBase } from './decision-log.js';
import { DeviceAccess, type DeviceSipCredentials } from './devices/device-access.js';
import type { DeviceContact, DevicePresence, SignIn } from './devices/device-presence.js';
import type { DeviceData, DevicePinResult, PinResult } from './gate-results.js';
import type { GatedMetrics } from './metrics.js';
import { PendingCalls } from './pending-calls.js';
import { PinChecks } from './pins/pin-checks.js';
import { PinStages } from './pin-stages.js';
import type { PinHasher } from './pins/pin-hash.js';
import { pinSubject, type PinAttempt } from './pins/pin-guard.js';
import type { GatedStore } from './store/index.js';

export type { DeviceData, DevicePinResult, PinResult } from './gate-results.js';

export interface GateOptions {
  /** The gated tenants and their settings (`tenants.<id>.gated`). */
  readonly tenants: Readonly<Record<string, GatedTenantConfig>>;
  readonly store: GatedStore;
  readonly presence: DevicePresence;
  readonly pins: PinHasher;
  readonly metrics: GatedMetrics;
  readonly logger: Logger;
  /** The digest realm device credentials are made in (the gateway's SIP domain). */
  readonly realm: string;
  readonly now?: () => number;
}

export class Gate {
  readonly #o: GateOptions;
  readonly #now: () => number;
  readonly #decider: Decider;
  readonly #decisions: DecisionLog;
  readonly #pinChecks: PinChecks;
  readonly #devices: DeviceAccess;
  readonly #pinStages: PinStages;
  readonly #pending = new PendingCalls();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: GateOptions) {
    this.#o = options;
    const now = options.now ?? Date.now;
    this.#now = now;
    const logger = options.logger.child({ module: 'gated' });
    this.#decider = new Decider({ ...options, logger, now });
    this.#decisions = new DecisionLog({
      store: options.store,
      metrics: options.metrics,
      logger,
      notAvailable: (tenant) =>
        this.isGated(tenant)
          ? this.prompt(tenant, 'notAvailable')
          : 'The person you are calling is not available.',
      now,
    });
    this.#pinChecks = new PinChecks({
      store: options.store.pinAttempts,
      metrics: options.metrics,
      logger,
      now,
    });
    this.#pinStages = new PinStages({
      decider: this.#decider,
      decisions: this.#decisions,
      pinChecks: this.#pinChecks,
      presence: options.presence,
      settings: (tenant) => this.#settings(tenant),
      now,
    });
    this.#devices = new DeviceAccess({
      store: options.store,
      presence: options.presence,
      realm: options.realm,
      isGated: (tenant) => this.isGated(tenant),
      now,
    });
    this.#sweep = setInterval(() => this.#pending.sweep(this.#now()), 30_000);
    this.#sweep.unref();
  }

  isGated(tenant: string): boolean {
    return this.#o.tenants[tenant] !== undefined;
  }

  /** A prompt of the tenant, `{caller}` replaced. */
  prompt(tenant: string, name: keyof GatedPrompts, vars: { caller?: string } = {}): string {
    const text = this.#settings(tenant).prompts[name];
    return text.replaceAll('{caller}', vars.caller ?? '');
  }

  /** Calls authorised and not yet forgotten. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Before any device is notified: may this caller reach this callee, and on
   * which devices? Allowed: ring `devices`, showing `callerName`. Refused: the
   * caller hears `outward.prompt` (a web caller gets `outward.code`).
   */
  async authorize(ctx: AuthorizeContext): Promise<GateDecision> {
    const started = process.hrtime.bigint();
    const settings = this.#settings(ctx.tenant);
    const base = { tenant: ctx.tenant, callId: ctx.callId, stage: 'authorize' as const };
    let attempt: PinAttempt | undefined;
    if (ctx.account) {
      const gate = await this.#pinChecks.begin(
        [pinSubject.account(ctx.tenant, `#${ctx.account.number.slice(0, 32)}`)],
        settings,
      );
      if (!gate.ok) return this.#refused(base, this.#pinChecks.lockedVerdict(gate), started);
      attempt = gate.attempt;
      if (!this.#pinChecks.wellFormed(ctx.account.pin, settings)) {
        await attempt.failed();
        return this.#refused(base, refusal('account_pin', 'not a PIN'), started);
      }
    }
    const decided = await this.#decider.decide(ctx.tenant, (a) => a.authorize(ctx));
    await this.#pinChecks.settle(attempt, decided);
    const decision = await this.#decisions.record(
      base,
      decided.verdict,
      decided.decidedBy,
      started,
    );
    if (decision.allowed && decision.residentId !== null) {
      this.#pending.set({
        tenant: ctx.tenant,
        callId: ctx.callId,
        accountId: decision.accountId,
        residentId: decision.residentId,
        devices: decision.devices,
        callerName: decision.callerName,
        expiresAt: this.#now() + settings.pendingSeconds * 1000,
      });
    }
    return decision;
  }

  /**
   * A resident app's PIN for a call ringing on it: checked now (the app shows
   * a wrong PIN at once), and answered with a one-time ticket the app puts in
   * its 200 OK, which `reverify` then takes.
   */
  async devicePin(
    tenant: string,
    callId: string,
    device: string,
    pin: string,
  ): Promise<DevicePinResult> {
    const started = process.hrtime.bigint();
    const base = { tenant, callId, stage: 'device-pin' as const };
    const call = this.#pending.get(callId, this.#now());
    if (!call || call.tenant !== tenant || !call.devices.some((d) => d.address === device)) {
      const d = await this.#refused(
        base,
        refusal('pending_call', 'no such call ringing on this device'),
        started,
      );
      return { ok: false, code: 'not_found', decision: d };
    }
    const result = await this.#pinStages.residentPin(base, call, device, pin, started);
    if (!result.ok) return result;
    const expiresAt = this.#now() + this.#settings(tenant).ticketSeconds * 1000;
    const ticket = this.#pending.issueTicket(call, device, expiresAt);
    return { ok: true, ticket, expiresAt, decision: result.decision };
  }

  /**
   * Just before connecting, with what the device gave (S4: re-verified "using
   * the same or other data"). Allowed: connect (and start the meter).
   */
  async reverify(callId: string, data: DeviceData): Promise<GateDecision> {
    const started = process.hrtime.bigint();
    const now = this.#now();
    const call = this.#pending.get(callId, now);
    const base = { tenant: call?.tenant ?? '', callId, stage: 'reverify' as const };
    if (!call || !call.devices.some((d) => d.address === data.device))
      return this.#refused(
        base,
        refusal('pending_call', 'not authorised for this device'),
        started,
      );
    let decision: GateDecision;
    if ('pin' in data) {
      decision = (await this.#pinStages.residentPin(base, call, data.device, data.pin, started))
        .decision;
    } else {
      const check = this.#pending.takeTicket(call, data.device, data.ticket, now);
      if (check !== 'ok')
        return this.#refused(base, refusal('device_ticket', `ticket ${check}`, call), started);
      const { verdict, decidedBy } = await this.#decider.decide(call.tenant, (a) =>
        a.recheck({
          stage: 'reverify',
          tenant: call.tenant,
          callId,
          accountId: call.accountId,
          residentId: call.residentId,
          device: data.device,
        }),
      );
      decision = await this.#decisions.record(base, withTicket(verdict), decidedBy, started);
    }
    if (decision.allowed) call.connectedDevice = data.device;
    return decision;
  }

  /** During the call (every `reverifyIntervalSeconds`): still allowed? Refused: end the call. */
  async recheck(callId: string): Promise<GateDecision> {
    const started = process.hrtime.bigint();
    const call = this.#pending.get(callId, this.#now());
    const base = { tenant: call?.tenant ?? '', callId, stage: 'recheck' as const };
    const device = call?.connectedDevice;
    if (!call || !device)
      return this.#refused(base, refusal('pending_call', 'not a connected gated call'), started);
    const { verdict, decidedBy } = await this.#decider.decide(call.tenant, (a) =>
      a.recheck({
        stage: 'recheck',
        tenant: call.tenant,
        callId,
        accountId: call.accountId,
        residentId: call.residentId,
        device,
      }),
    );
    return await this.#decisions.record(base, verdict, decidedBy, started);
  }

  /** The call ended (or will not be connected): its authorisation and tickets go. */
  forget(callId: string): void {
    this.#pending.delete(callId);
  }

  /**
   * A resident signs in on a resident app with their PIN (S4: "data
   * associated with the resident operating the device", verified as tied to
   * its address identifier); the app counts as active for that resident until
   * `signInMinutes` pass or it signs out.
   */
  async signIn(
    tenant: string,
    device: string,
    input: { readonly resident?: string | undefined; readonly pin: string },
  ): Promise<PinResult> {
    return this.#pinStages.signIn(tenant, device, input);
  }

  /** A call authorised to ring on this device and not connected yet (what the device may show). */
  ringing(
    tenant: string,
    callId: string,
    device: string,
  ): { readonly callId: string; readonly callerName: string | null } | undefined {
    const call = this.#pending.get(callId, this.#now());
    if (!call || call.tenant !== tenant || call.connectedDevice !== null) return undefined;
    if (!call.devices.some((d) => d.address === device)) return undefined;
    return { callId, callerName: call.callerName };
  }

  // The registrar's and the device API's questions (no decisions): devices/device-access.ts.

  /** The resident signed in on an app now, if any. */
  signedIn(tenant: string, device: string): SignIn | undefined {
    return this.#devices.signedIn(tenant, device);
  }

  signOut(tenant: string, device: string): void {
    this.#devices.signOut(tenant, device);
  }

  /** For the registrar: a device's digest secret by its SIP username. */
  sipCredentials(username: string): Promise<DeviceSipCredentials | undefined> {
    return this.#devices.sipCredentials(username);
  }

  /** From the registrar: a device's bindings changed (registered, refreshed, expired). */
  deviceBindings(sipUser: string, contacts: readonly DeviceContact[]): void {
    this.#devices.bindings(sipUser, contacts);
  }

  /** Where to ring a device now (its live registrations). */
  deviceContacts(tenant: string, address: string): readonly DeviceContact[] {
    return this.#devices.contacts(tenant, address);
  }

  /** Whether a device credential is right (the device sign-in). */
  deviceCredentialMatches(
    tenant: string,
    address: string,
    secret: string,
  ): Promise<{ sipUser: string; stamp: string } | undefined> {
    return this.#devices.credentialMatches(tenant, address, secret);
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#pending.clear();
  }

  // --- internals ------------------------------------------------------------

  #settings(tenant: string): GatedTenantConfig {
    const settings = this.#o.tenants[tenant];
    if (!settings) throw new TypeError(`tenant "${tenant}" is not gated`);
    return settings;
  }

  /** A refusal the Gate makes itself (before or instead of asking the authenticator). */
  #refused(base: DecisionBase, verdict: Verdict, started: bigint): Promise<GateDecision> {
    return this.#decisions.record(base, verdict, 'builtin', started);
  }
}
