/**
 * The Authenticator on the facility's server (`http-hook.ts`): its answer
 * decides, then Parley keeps only the devices that are really there to ring
 * (known, registered, signed in by that resident on an app, not blocked). A
 * failed ask throws {@link HookFailure}; the Gate decides what that means.
 */
import type { CallingHours } from '../../config/index.js';
import type { DeviceTarget } from '../decision.js';
import { deviceActivity, describeActivity } from '../devices/device-activity.js';
import type { DevicePresence } from '../devices/device-presence.js';
import type { DeviceStore } from '../store/index.js';
import type {
  AuthorizeContext,
  Authenticator,
  RecheckQuery,
  ResidentPinQuery,
  SignInQuery,
  Verdict,
} from './authenticator.js';
import { hookChecks, type HookAnswer, type HookQuestion, type HttpHook } from './http-hook.js';

export class HookFailure extends Error {
  override readonly name = 'HookFailure';
  readonly reason: string;

  constructor(reason: string, detail: string) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
  }
}

export interface HttpAuthenticatorOptions {
  readonly hook: HttpHook;
  readonly devices: DeviceStore;
  readonly presence: DevicePresence;
  readonly callingHours: CallingHours | undefined;
  readonly now: () => number;
}

export class HttpAuthenticator implements Authenticator {
  readonly kind = 'http' as const;
  readonly #o: HttpAuthenticatorOptions;

  constructor(options: HttpAuthenticatorOptions) {
    this.#o = options;
  }

  async authorize(ctx: AuthorizeContext): Promise<Verdict> {
    const { privateClaims, ...rest } = ctx;
    const answer = await this.#ask({ stage: 'authorize', ...rest, claims: privateClaims ?? null });
    return this.#verdict(ctx.tenant, answer, answer.devices ?? []);
  }

  async verifyResident(q: ResidentPinQuery): Promise<Verdict> {
    return this.#verdict(q.tenant, await this.#ask(q), [q.device], q.residentId);
  }

  async recheck(q: RecheckQuery): Promise<Verdict> {
    return this.#verdict(q.tenant, await this.#ask(q), [q.device], q.residentId);
  }

  async signIn(q: SignInQuery): Promise<Verdict> {
    const answer = await this.#ask({ stage: 'sign-in', ...q });
    const checks = hookChecks(answer);
    const device = await this.#o.devices.get(q.tenant, q.device);
    const allowed = answer.allow && device?.kind === 'app';
    return {
      allowed,
      checks:
        allowed || !answer.allow
          ? checks
          : [...checks, { name: 'resident_pin_device', ok: false, detail: 'not a resident app' }],
      accountId: null,
      residentId: answer.residentId ?? null,
      devices:
        allowed && device
          ? [{ address: device.address, kind: device.kind, sipUser: device.sipUser }]
          : [],
      callerName: null,
      ratePerMinute: null,
      balance: null,
    };
  }

  async #ask(question: HookQuestion): Promise<HookAnswer> {
    const result = await this.#o.hook.ask(question);
    if (!result.ok) throw new HookFailure(result.reason, result.detail);
    return result.answer;
  }

  async #verdict(
    tenant: string,
    answer: HookAnswer,
    addresses: readonly string[],
    knownResident?: string,
  ): Promise<Verdict> {
    const checks = hookChecks(answer);
    const residentId = answer.residentId ?? knownResident ?? null;
    const base = {
      accountId: answer.accountId ?? null,
      residentId,
      callerName: answer.callerName ?? null,
      ratePerMinute: answer.ratePerMinute ?? null,
      balance: answer.balance ?? null,
    };
    if (!answer.allow) return { allowed: false, checks, devices: [], ...base };
    const now = this.#o.now();
    const targets: DeviceTarget[] = [];
    const details: string[] = [];
    for (const address of addresses) {
      const device = await this.#o.devices.get(tenant, address);
      if (!device) {
        details.push(`${address}: unknown`);
        continue;
      }
      const activity = deviceActivity(device, this.#o.presence, this.#o.callingHours, now);
      const other = activity.signedIn !== undefined && activity.signedIn.residentId !== residentId;
      details.push(
        other
          ? `${address}: another resident signed in`
          : describeActivity(address, activity, device.kind),
      );
      if (activity.active && !other)
        targets.push({ address, kind: device.kind, sipUser: device.sipUser });
    }
    const active = targets.length > 0;
    return {
      allowed: active,
      checks: [...checks, { name: 'device_active', ok: active, detail: details.join('; ') }],
      devices: targets,
      ...base,
    };
  }
}
