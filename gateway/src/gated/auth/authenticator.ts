/**
 * The authenticating server's seam: what is asked at each stage, and the
 * verdict. Two implementations: the built-in checks on Parley's own accounts
 * (`builtin.ts`) and the facility's own server over HTTP (`http-hook.ts`).
 * PIN lockouts, device presence, decision records and the outward answer are
 * the Gate's (`../gate.ts`), whichever decides.
 */
import type { Check, DeviceTarget, GateStage } from '../decision.js';

/** Who is calling whom: what the call path knows before any device is notified. */
export interface AuthorizeContext {
  /** The gateway's id of the call (the `X-Parley-Call` the device will see). */
  readonly callId: string;
  readonly tenant: string;
  /** A phone through a trunk, a browser (widget), or a SIP visitor. */
  readonly channel: 'phone' | 'browser' | 'sip';
  /** The caller's number in E.164 (a trunk call's asserted caller); null when anonymous. */
  readonly callerNumber?: string | null | undefined;
  /** What the caller keyed (`gather`) when the number alone does not name the account. */
  readonly account?: { readonly number: string; readonly pin: string } | undefined;
  /**
   * The call token's private claims (web calls): `account` (the account
   * number) or `webLogin` (the login on the facility's site) names the
   * account. The facility's site signed them, so no PIN is asked.
   */
  readonly privateClaims?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Who is called: a resident by id, by the number a caller keys, or a device
   * address; absent: the one resident the account is approved for.
   */
  readonly callee?:
    | { readonly resident: string }
    | { readonly residentNumber: string }
    | { readonly device: string }
    | undefined;
}

/** A resident's PIN keyed on a device, for a call (device-pin, reverify) or a sign-in. */
export interface ResidentPinQuery {
  readonly stage: Extract<GateStage, 'device-pin' | 'reverify'>;
  readonly tenant: string;
  readonly callId: string;
  readonly accountId: string | null;
  readonly residentId: string;
  readonly device: string;
  readonly pin: string;
}

/** Everything but a PIN, again: a reverify with the app's ticket, a periodic recheck. */
export interface RecheckQuery {
  readonly stage: Extract<GateStage, 'reverify' | 'recheck'>;
  readonly tenant: string;
  readonly callId: string;
  readonly accountId: string | null;
  readonly residentId: string;
  readonly device: string;
}

export interface SignInQuery {
  readonly tenant: string;
  readonly device: string;
  /** The resident's id or number; absent: the one resident of the device. */
  readonly resident: string | undefined;
  readonly pin: string;
}

export interface Verdict {
  readonly allowed: boolean;
  readonly checks: readonly Check[];
  readonly accountId: string | null;
  readonly residentId: string | null;
  /** Devices the verdict allows: to ring (authorize), or the one checked. */
  readonly devices: readonly DeviceTarget[];
  readonly callerName: string | null;
  readonly ratePerMinute: number | null;
  readonly balance: number | null;
}

export interface Authenticator {
  readonly kind: 'builtin' | 'http';
  authorize(context: AuthorizeContext): Promise<Verdict>;
  verifyResident(query: ResidentPinQuery): Promise<Verdict>;
  recheck(query: RecheckQuery): Promise<Verdict>;
  signIn(query: SignInQuery): Promise<Verdict>;
}

/** Collects a decision's checks in order and builds its verdict. */
export class CheckList {
  readonly checks: Check[] = [];

  pass(name: Check['name'], detail?: string): void {
    this.checks.push(detail === undefined ? { name, ok: true } : { name, ok: true, detail });
  }

  fail(name: Check['name'], detail: string, partial: Partial<Verdict> = {}): Verdict {
    this.checks.push({ name, ok: false, detail });
    return this.verdict(false, partial);
  }

  verdict(allowed: boolean, partial: Partial<Verdict> = {}): Verdict {
    return {
      allowed,
      checks: this.checks,
      accountId: partial.accountId ?? null,
      residentId: partial.residentId ?? null,
      devices: partial.devices ?? [],
      callerName: partial.callerName ?? null,
      ratePerMinute: partial.ratePerMinute ?? null,
      balance: partial.balance ?? null,
    };
  }
}
