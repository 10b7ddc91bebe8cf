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
 * "proceed" or "not available".
 */
import { randomUUID } from 'node:crypto';
import type { GatedPrompts, GatedTenantConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { digestHa1 } from '../sip/message/index.js';
import type { AuthorizeContext, Authenticator, Verdict } from './auth/authenticator.js';
import { BuiltinAuthenticator } from './auth/builtin.js';
import { HookFailure, HttpAuthenticator } from './auth/http-authenticator.js';
import { HttpHook } from './auth/http-hook.js';
import type { CheckName, GateDecision, GateStage } from './decision.js';
import type { DeviceContact, DevicePresence, SignIn } from './devices/device-presence.js';
import type { GatedMetrics } from './metrics.js';
import { PendingCalls } from './pending-calls.js';
import type { PinHasher } from './pins/pin-hash.js';
import { PinGuard, pinSubject, type PinAttempt, type PinPolicy } from './pins/pin-guard.js';
import type { GatedStore } from './store/index.js';

/** What the device gave just before connecting. */
export type DeviceData =
  /** A plain SIP phone: the PIN the resident keyed (DTMF) after answering. */
  | { readonly device: string; readonly pin: string }
  /** A resident app: the ticket `devicePin` gave it, sent back in its 200 OK (`X-Parley-Device-Ticket`). */
  | { readonly device: string; readonly ticket: string };

export type PinResult =
  | { readonly ok: true; readonly decision: GateDecision }
  | {
      readonly ok: false;
      readonly code: 'pin_refused' | 'pin_locked' | 'not_found';
      /** With `pin_locked`: when to try again. */
      readonly retryAfterMs?: number;
      readonly decision: GateDecision;
    };

export type DevicePinResult =
  | {
      readonly ok: true;
      readonly ticket: string;
      readonly expiresAt: number;
      readonly decision: GateDecision;
    }
  | Extract<PinResult, { ok: false }>;

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

/** What an authenticator answered, and whether the facility's server failed to. */
interface Decided {
  readonly verdict: Verdict;
  readonly decidedBy: GateDecision['decidedBy'];
  readonly hookFailed: boolean;
}

/** Checks whose failure is a wrong PIN (or account number) and counts toward a lockout. */
const PIN_CHECKS: ReadonlySet<CheckName> = new Set([
  'caller_account',
  'account_pin',
  'resident_pin',
  'resident_pin_device',
]);

export class Gate {
  readonly #o: GateOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #builtin: BuiltinAuthenticator;
  readonly #hooks = new Map<string, HttpAuthenticator>();
  readonly #guard: PinGuard;
  readonly #pending = new PendingCalls();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: GateOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ module: 'gated' });
    this.#builtin = new BuiltinAuthenticator({
      store: options.store,
      presence: options.presence,
      pins: options.pins,
      settings: (tenant) => {
        const t = options.tenants[tenant];
        return t ? { minimumMinutes: t.minimumMinutes, callingHours: t.callingHours } : undefined;
      },
      now: this.#now,
    });
    for (const [tenant, settings] of Object.entries(options.tenants)) {
      const a = settings.authenticator;
      if (a.kind !== 'http') continue;
      this.#hooks.set(
        tenant,
        new HttpAuthenticator({
          hook: new HttpHook({ url: a.url, secret: a.secret, timeoutMs: a.timeoutMs }, this.#now),
          devices: options.store.devices,
          presence: options.presence,
          callingHours: settings.callingHours,
          now: this.#now,
        }),
      );
    }
    this.#guard = new PinGuard({
      store: options.store.pinAttempts,
      now: this.#now,
      onFailure: (subject) =>
        options.metrics.pinFailures.inc({ subject: subject.split(':')[0] ?? 'unknown' }),
      onLockout: (subject, until) => {
        options.metrics.pinLockouts.inc({ subject: subject.split(':')[0] ?? 'unknown' });
        this.#log.warn(
          { subject, until: new Date(until).toISOString() },
          'PIN lockout: too many wrong PINs',
        );
      },
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
      const gate = this.#guard.begin(
        [pinSubject.account(ctx.tenant, `#${ctx.account.number.slice(0, 32)}`)],
        this.#policy(settings),
      );
      if (!gate.ok) return this.#record(base, this.#lockedVerdict(gate), 'builtin', started);
      attempt = gate.attempt;
      if (!this.#pinShape(ctx.account.pin, settings)) {
        this.#pinFailed(attempt);
        return this.#record(base, refusal('account_pin', 'not a PIN'), 'builtin', started);
      }
    }
    const decided = await this.#decide(ctx.tenant, (a) => a.authorize(ctx));
    this.#settle(attempt, decided);
    const decision = this.#record(base, decided.verdict, decided.decidedBy, started);
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
      const d = this.#record(
        base,
        refusal('pending_call', 'no such call ringing on this device'),
        'builtin',
        started,
      );
      return { ok: false, code: 'not_found', decision: d };
    }
    const result = await this.#residentPin(
      base,
      call.accountId,
      call.residentId,
      device,
      pin,
      started,
    );
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
      return this.#record(
        base,
        refusal('pending_call', 'not authorised for this device'),
        'builtin',
        started,
      );
    let decision: GateDecision;
    if ('pin' in data) {
      decision = (
        await this.#residentPin(
          base,
          call.accountId,
          call.residentId,
          data.device,
          data.pin,
          started,
        )
      ).decision;
    } else {
      const check = this.#pending.takeTicket(call, data.device, data.ticket, now);
      if (check !== 'ok')
        return this.#record(
          base,
          refusal('device_ticket', `ticket ${check}`, call),
          'builtin',
          started,
        );
      const { verdict, decidedBy } = await this.#decide(call.tenant, (a) =>
        a.recheck({
          stage: 'reverify',
          tenant: call.tenant,
          callId,
          accountId: call.accountId,
          residentId: call.residentId,
          device: data.device,
        }),
      );
      decision = this.#record(base, withTicket(verdict), decidedBy, started);
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
      return this.#record(
        base,
        refusal('pending_call', 'not a connected gated call'),
        'builtin',
        started,
      );
    const { verdict, decidedBy } = await this.#decide(call.tenant, (a) =>
      a.recheck({
        stage: 'recheck',
        tenant: call.tenant,
        callId,
        accountId: call.accountId,
        residentId: call.residentId,
        device,
      }),
    );
    return this.#record(base, verdict, decidedBy, started);
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
    const started = process.hrtime.bigint();
    const settings = this.#settings(tenant);
    const base = { tenant, callId: null, stage: 'sign-in' as const };
    const subjects = [pinSubject.device(tenant, device)];
    if (input.resident !== undefined) subjects.push(pinSubject.resident(tenant, input.resident));
    const gate = this.#guard.begin(subjects, this.#policy(settings));
    if (!gate.ok) return this.#locked(base, gate, started);
    if (!this.#pinShape(input.pin, settings)) {
      this.#pinFailed(gate.attempt);
      return {
        ok: false,
        code: 'pin_refused',
        decision: this.#record(base, refusal('resident_pin', 'not a PIN'), 'builtin', started),
      };
    }
    const decided = await this.#decide(tenant, (a) =>
      a.signIn({ tenant, device, resident: input.resident, pin: input.pin }),
    );
    this.#settle(gate.attempt, decided);
    const decision = this.#record(base, decided.verdict, decided.decidedBy, started);
    if (!decision.allowed || decision.residentId === null)
      return { ok: false, code: 'pin_refused', decision };
    this.#o.presence.signIn(tenant, device, {
      residentId: decision.residentId,
      until: this.#now() + settings.signInMinutes * 60_000,
    });
    return { ok: true, decision };
  }

  /** The resident signed in on an app now, if any. */
  signedIn(tenant: string, device: string): SignIn | undefined {
    return this.#o.presence.signedIn(tenant, device, this.#now());
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

  signOut(tenant: string, device: string): void {
    this.#o.presence.signOut(tenant, device);
  }

  /**
   * For the registrar: a device's digest secret by its SIP username. An app
   * (sip.js) answers MD5 only (widget/src/desk/sipjs-phone-stack.ts); a SIP
   * phone gets the gateway's `sip.digestAlgorithms`.
   */
  sipCredentials(username: string):
    | {
        agentId: string;
        ha1: { MD5: string; 'SHA-256': string };
        algorithms: readonly ('SHA-256' | 'MD5')[] | undefined;
      }
    | undefined {
    const device = this.#o.store.devices.bySipUser(username);
    if (!device || !this.isGated(device.tenant) || device.realm !== this.#o.realm) return undefined;
    return {
      agentId: username,
      ha1: device.ha1,
      algorithms: device.kind === 'app' ? ['MD5'] : undefined,
    };
  }

  /** From the registrar: a device's bindings changed (registered, refreshed, expired). */
  deviceBindings(sipUser: string, contacts: readonly DeviceContact[]): void {
    const device = this.#o.store.devices.bySipUser(sipUser);
    if (!device) return;
    this.#o.presence.setContacts(device.tenant, device.address, contacts);
  }

  /** Where to ring a device now (its live registrations). */
  deviceContacts(tenant: string, address: string): readonly DeviceContact[] {
    return this.#o.presence.contacts(tenant, address, this.#now());
  }

  /** Whether a device credential is right (the device sign-in, like the desk's against H(A1)). */
  deviceCredentialMatches(
    tenant: string,
    address: string,
    secret: string,
  ): { sipUser: string; stamp: string } | undefined {
    const device = this.#o.store.devices.get(tenant, address);
    const ha1 = digestHa1(device?.sipUser ?? 'nobody', this.#o.realm, secret, 'SHA-256');
    if (!device || device.realm !== this.#o.realm || !this.isGated(tenant)) return undefined;
    return ha1 === device.ha1['SHA-256']
      ? { sipUser: device.sipUser, stamp: device.credentialStamp }
      : undefined;
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

  #policy(settings: GatedTenantConfig): PinPolicy {
    return {
      maxFailures: settings.pin.maxFailures,
      delayMs: settings.pin.delayMs,
      lockoutMs: settings.pin.lockoutMinutes * 60_000,
    };
  }

  #pinShape(pin: string, settings: GatedTenantConfig): boolean {
    return (
      pin.length >= settings.pin.minLength &&
      pin.length <= settings.pin.maxLength &&
      /^\d+$/.test(pin)
    );
  }

  /** The resident PIN stages (device-pin, reverify by DTMF), behind the device and resident lockouts. */
  async #residentPin(
    base: { tenant: string; callId: string; stage: 'device-pin' | 'reverify' },
    accountId: string | null,
    residentId: string,
    device: string,
    pin: string,
    started: bigint,
  ): Promise<PinResult> {
    const settings = this.#settings(base.tenant);
    const gate = this.#guard.begin(
      [pinSubject.device(base.tenant, device), pinSubject.resident(base.tenant, residentId)],
      this.#policy(settings),
    );
    if (!gate.ok) return this.#locked(base, gate, started);
    if (!this.#pinShape(pin, settings)) {
      this.#pinFailed(gate.attempt);
      const d = this.#record(
        base,
        refusal('resident_pin', 'not a PIN', { accountId, residentId }),
        'builtin',
        started,
      );
      return { ok: false, code: 'pin_refused', decision: d };
    }
    const decided = await this.#decide(base.tenant, (a) =>
      a.verifyResident({ ...base, accountId, residentId, device, pin }),
    );
    this.#settle(gate.attempt, decided);
    const decision = this.#record(base, decided.verdict, decided.decidedBy, started);
    return decision.allowed ? { ok: true, decision } : { ok: false, code: 'pin_refused', decision };
  }

  #locked(
    base: { tenant: string; callId: string | null; stage: GateStage },
    gate: Extract<ReturnType<PinGuard['begin']>, { ok: false }>,
    started: bigint,
  ): Extract<PinResult, { ok: false }> {
    return {
      ok: false,
      code: 'pin_locked',
      retryAfterMs: gate.retryAfterMs,
      decision: this.#record(base, this.#lockedVerdict(gate), 'builtin', started),
    };
  }

  #lockedVerdict(gate: Extract<ReturnType<PinGuard['begin']>, { ok: false }>): Verdict {
    const seconds = Math.ceil(gate.retryAfterMs / 1000);
    return refusal(
      'pin_lockout',
      `${gate.subject} ${gate.locked ? 'locked' : 'waiting'}, ${seconds} s`,
    );
  }

  #pinFailed(attempt: PinAttempt): void {
    attempt.failed();
  }

  /**
   * Counts a reserved PIN try: a wrong PIN (or account number) fails it; a
   * right one clears the counts; a facility server that failed to answer says
   * nothing about the PIN, so the try is given back.
   */
  #settle(attempt: PinAttempt | undefined, decided: Decided): void {
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
    if (wrongPin) this.#pinFailed(attempt);
    else if (
      verdict.allowed ||
      verdict.checks.some((c) => c.ok && (c.name === 'account_pin' || c.name === 'resident_pin'))
    )
      attempt.succeeded();
    else attempt.abandon();
  }

  /** Asks the tenant's authenticator; a failed facility server is refused or replaced (onFailure). */
  async #decide(
    tenant: string,
    ask: (authenticator: Authenticator) => Promise<Verdict>,
  ): Promise<Decided> {
    const hook = this.#hooks.get(tenant);
    if (!hook)
      return { verdict: await ask(this.#builtin), decidedBy: 'builtin', hookFailed: false };
    try {
      return { verdict: await ask(hook), decidedBy: 'http', hookFailed: false };
    } catch (error) {
      if (!(error instanceof HookFailure)) throw error;
      this.#o.metrics.hookFailures.inc({ tenant, reason: error.reason });
      this.#log.warn(
        { tenant, reason: error.message },
        "the facility's authenticating server failed",
      );
      const failure = { name: 'authenticator' as const, ok: false, detail: error.message };
      const settings = this.#settings(tenant).authenticator;
      if (settings.kind === 'http' && settings.onFailure === 'builtin') {
        const verdict = await ask(this.#builtin);
        return {
          verdict: { ...verdict, checks: [failure, ...verdict.checks] },
          decidedBy: 'builtin-after-http',
          hookFailed: true,
        };
      }
      return {
        verdict: { ...refusal('authenticator', error.message), checks: [failure] },
        decidedBy: 'http',
        hookFailed: true,
      };
    }
  }

  #record(
    base: { tenant: string; callId: string | null; stage: GateStage },
    verdict: Verdict,
    decidedBy: GateDecision['decidedBy'],
    started: bigint,
  ): GateDecision {
    // The last failing check decided (a failed facility server comes first, then the built-in checks).
    const failed = verdict.allowed
      ? null
      : (verdict.checks.findLast((c) => !c.ok)?.name ?? 'authenticator');
    const durationUs = Number((process.hrtime.bigint() - started) / 1000n);
    const decision: GateDecision = {
      id: randomUUID(),
      ...base,
      at: this.#now(),
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
            prompt: this.isGated(base.tenant)
              ? this.prompt(base.tenant, 'notAvailable')
              : 'The person you are calling is not available.',
          },
      durationUs,
    };
    const { outward: _outward, ...record } = decision;
    this.#o.store.decisions.insert(record);
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
    if (decision.allowed) this.#log.debug(fields, 'gated decision: allowed');
    else
      this.#log.info(
        { ...fields, failed, detail: verdict.checks.find((c) => !c.ok)?.detail },
        'gated decision: refused',
      );
    return decision;
  }
}

/** A verdict refusing on one check. */
function refusal(
  name: CheckName,
  detail: string,
  partial: { accountId?: string | null; residentId?: string | null } = {},
): Verdict {
  return {
    allowed: false,
    checks: [{ name, ok: false, detail }],
    accountId: partial.accountId ?? null,
    residentId: partial.residentId ?? null,
    devices: [],
    callerName: null,
    ratePerMinute: null,
    balance: null,
  };
}

/** The ticket check, first in a reverify by ticket. */
function withTicket(verdict: Verdict): Verdict {
  return { ...verdict, checks: [{ name: 'device_ticket', ok: true }, ...verdict.checks] };
}
