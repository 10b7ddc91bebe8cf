/**
 * The built-in authenticating server, on Parley's own accounts (S4, both
 * abstracts): caller ↔ inbound calling account, account ↔ the device's address
 * identifier (through the resident the facility approved), the resident's PIN
 * ↔ that address (the resident is tied to it and, on an app, signed in on it
 * with that PIN), the device active, and the balance. Checks run in that order
 * and stop at the first failure; every lookup is by key or index.
 */
import type { CallingHours } from '../../config/index.js';
import type { DeviceTarget } from '../decision.js';
import { deviceActivity, describeActivity } from '../devices/device-activity.js';
import type { DevicePresence } from '../devices/device-presence.js';
import type { PinHasher } from '../pins/pin-hash.js';
import type { GatedStore } from '../store/index.js';
import type { StoredAccount, StoredDevice, StoredResident } from '../types.js';
import {
  CheckList,
  type AuthorizeContext,
  type Authenticator,
  type RecheckQuery,
  type ResidentPinQuery,
  type SignInQuery,
  type Verdict,
} from './authenticator.js';

export interface BuiltinSettings {
  readonly minimumMinutes: number;
  readonly callingHours: CallingHours | undefined;
}

export interface BuiltinAuthenticatorOptions {
  readonly store: Pick<GatedStore, 'residents' | 'devices' | 'accounts'>;
  readonly presence: DevicePresence;
  readonly pins: PinHasher;
  /** The tenant's gated settings (undefined: not a gated tenant). */
  readonly settings: (tenant: string) => BuiltinSettings | undefined;
  readonly now: () => number;
}

const claim = (claims: AuthorizeContext['privateClaims'], name: string): string | undefined => {
  const value = claims?.[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
};

export class BuiltinAuthenticator implements Authenticator {
  readonly kind = 'builtin' as const;
  readonly #o: BuiltinAuthenticatorOptions;

  constructor(options: BuiltinAuthenticatorOptions) {
    this.#o = options;
  }

  async authorize(ctx: AuthorizeContext): Promise<Verdict> {
    const list = new CheckList();
    const { accounts } = this.#o.store;
    const settings = this.#o.settings(ctx.tenant);
    if (!settings) return list.fail('caller_account', 'the tenant is not gated');

    // Caller ↔ account.
    let account: StoredAccount | undefined;
    if (ctx.account) {
      account = await accounts.byNumber(ctx.tenant, ctx.account.number);
      // Verified even when there is no such account (a dummy hash): the time taken does not tell.
      const pinOk = await this.#o.pins.verify(ctx.account.pin, account?.pinHash);
      if (!account) return list.fail('caller_account', 'no account has this number');
      list.pass('caller_account', 'account number');
      if (!pinOk)
        return list.fail('account_pin', account.pinSet ? 'wrong PIN' : 'the account has no PIN', {
          accountId: account.id,
        });
      list.pass('account_pin');
    } else {
      const byToken = claim(ctx.privateClaims, 'account');
      const byLogin = claim(ctx.privateClaims, 'webLogin');
      if (byToken !== undefined) {
        account = await accounts.byNumber(ctx.tenant, byToken);
        if (!account) return list.fail('caller_account', "no account has the token's number");
        list.pass('caller_account', 'token account claim');
      } else if (byLogin !== undefined) {
        account = await accounts.byWebLogin(ctx.tenant, byLogin);
        if (!account) return list.fail('caller_account', "no account has the token's web login");
        list.pass('caller_account', 'token webLogin claim');
      } else if (ctx.callerNumber) {
        account = await accounts.byVerifiedPhone(ctx.tenant, ctx.callerNumber);
        if (!account)
          return list.fail('caller_account', 'the number is no verified number of an account');
        list.pass('caller_account', 'verified caller number');
      } else {
        return list.fail('caller_account', 'nothing identifies the caller');
      }
    }
    const partial = { accountId: account.id, callerName: account.name };
    if (account.status !== 'active') return list.fail('account_status', account.status, partial);
    list.pass('account_status');

    // The callee.
    const callee = await this.#callee(ctx, account);
    if (typeof callee === 'string') return list.fail('callee', callee, partial);
    const resident = callee.resident;
    const withResident = { ...partial, residentId: resident.id };
    if (resident.status !== 'active') return list.fail('callee', 'resident inactive', withResident);
    list.pass('callee');
    const approval = await accounts.approval(ctx.tenant, account.id, resident.id);
    if (approval?.status !== 'approved')
      return list.fail(
        'account_resident',
        approval ? `approval ${approval.status}` : 'not approved for this resident',
        withResident,
      );
    list.pass('account_resident');

    // Account ↔ device address, resident PIN ↔ device address, device active.
    const addresses = callee.device
      ? resident.devices.filter((a) => a === callee.device)
      : resident.devices;
    if (addresses.length === 0)
      return list.fail(
        'account_device',
        callee.device ? "the device is not the resident's" : 'the resident has no device',
        withResident,
      );
    list.pass('account_device', addresses.join(' '));
    if (!resident.pinSet) return list.fail('resident_pin_device', 'no PIN set', withResident);
    list.pass('resident_pin_device');
    const { targets, details } = await this.#activeDevices(
      ctx.tenant,
      resident.id,
      addresses,
      settings,
    );
    if (targets.length === 0) return list.fail('device_active', details.join('; '), withResident);
    list.pass('device_active', details.join('; '));

    const needed = account.ratePerMinute * settings.minimumMinutes;
    const money = {
      ...withResident,
      ratePerMinute: account.ratePerMinute,
      balance: account.balance,
    };
    if (account.balance < needed)
      return list.fail('balance', `${account.balance} < ${needed}`, money);
    list.pass('balance', `${Math.floor(account.balance / Math.max(account.ratePerMinute, 1))} min`);
    return list.verdict(true, { ...money, devices: targets });
  }

  async verifyResident(q: ResidentPinQuery): Promise<Verdict> {
    const list = new CheckList();
    const resident = await this.#o.store.residents.get(q.tenant, q.residentId);
    const pinOk = await this.#o.pins.verify(q.pin, resident?.pinHash);
    const partial = { accountId: q.accountId, residentId: q.residentId };
    if (!resident?.devices.includes(q.device))
      return list.fail('resident_pin_device', 'the resident is not on this device', partial);
    list.pass('resident_pin_device');
    if (!pinOk) return list.fail('resident_pin', 'wrong PIN', partial);
    list.pass('resident_pin');
    return this.#again(list, q);
  }

  recheck(q: RecheckQuery): Promise<Verdict> {
    return this.#again(new CheckList(), q);
  }

  async signIn(q: SignInQuery): Promise<Verdict> {
    const list = new CheckList();
    const { residents, devices } = this.#o.store;
    const device = await devices.get(q.tenant, q.device);
    let resident: StoredResident | undefined;
    if (q.resident !== undefined)
      resident =
        (await residents.get(q.tenant, q.resident)) ??
        (await residents.byNumber(q.tenant, q.resident));
    else if (device) {
      const onDevice = await residents.ofDevice(q.tenant, device.address);
      if (onDevice.length === 1) resident = await residents.get(q.tenant, onDevice[0] ?? '');
    }
    const pinOk = await this.#o.pins.verify(q.pin, resident?.pinHash);
    if (!device || device.kind !== 'app')
      return list.fail('resident_pin_device', 'not a resident app');
    if (!resident) return list.fail('resident_pin_device', 'no such resident on this device');
    const partial = { residentId: resident.id };
    if (!resident.devices.includes(device.address))
      return list.fail('resident_pin_device', 'the resident is not on this device', partial);
    list.pass('resident_pin_device');
    if (!pinOk) return list.fail('resident_pin', 'wrong PIN', partial);
    list.pass('resident_pin');
    if (resident.status !== 'active') return list.fail('callee', 'resident inactive', partial);
    list.pass('callee');
    return list.verdict(true, {
      ...partial,
      devices: [{ address: device.address, kind: device.kind, sipUser: device.sipUser }],
    });
  }

  /** The checks after a PIN (or instead of one): still approved, active, funded. */
  async #again(list: CheckList, q: RecheckQuery | ResidentPinQuery): Promise<Verdict> {
    const { accounts, residents } = this.#o.store;
    const settings = this.#o.settings(q.tenant);
    const partial = { accountId: q.accountId, residentId: q.residentId };
    if (!settings) return list.fail('callee', 'the tenant is not gated', partial);
    const resident = await residents.get(q.tenant, q.residentId);
    if (resident?.status !== 'active') return list.fail('callee', 'resident inactive', partial);
    list.pass('callee');
    let account: StoredAccount | undefined;
    if (q.accountId !== null) {
      account = await accounts.get(q.tenant, q.accountId);
      if (account?.status !== 'active')
        return list.fail('account_status', account?.status ?? 'account gone', partial);
      list.pass('account_status');
      if ((await accounts.approval(q.tenant, account.id, resident.id))?.status !== 'approved')
        return list.fail('account_resident', 'no longer approved', partial);
      list.pass('account_resident');
    }
    if (!resident.devices.includes(q.device))
      return list.fail('account_device', 'the device is no longer the resident’s', partial);
    list.pass('account_device');
    const { targets, details } = await this.#activeDevices(
      q.tenant,
      resident.id,
      [q.device],
      settings,
    );
    if (targets.length === 0) return list.fail('device_active', details.join('; '), partial);
    list.pass('device_active');
    const money = {
      ...partial,
      callerName: account?.name ?? null,
      ratePerMinute: account?.ratePerMinute ?? null,
      balance: account?.balance ?? null,
    };
    // Each started minute is charged at its start (meter.ts): one minute must still be paid for.
    if (account && account.balance < account.ratePerMinute && q.stage !== 'recheck')
      return list.fail('balance', `${account.balance} < ${account.ratePerMinute}`, money);
    if (account) list.pass('balance');
    return list.verdict(true, { ...money, devices: targets });
  }

  /** Which `callee` the context names (or the one resident the account may call). */
  async #callee(
    ctx: AuthorizeContext,
    account: StoredAccount,
  ): Promise<{ resident: StoredResident; device?: string } | string> {
    const { residents, accounts, devices } = this.#o.store;
    const callee = ctx.callee;
    if (callee && 'resident' in callee) {
      const r = await residents.get(ctx.tenant, callee.resident);
      return r ? { resident: r } : 'no such resident';
    }
    if (callee && 'residentNumber' in callee) {
      const r = await residents.byNumber(ctx.tenant, callee.residentNumber);
      return r ? { resident: r } : 'no resident has this number';
    }
    if (callee && 'device' in callee) {
      const device = await devices.get(ctx.tenant, callee.device);
      if (!device) return 'no such device';
      const signedIn =
        device.kind === 'app'
          ? this.#o.presence.signedIn(ctx.tenant, device.address, this.#o.now())
          : undefined;
      const approved = new Set(
        (await accounts.approvals(ctx.tenant, account.id))
          .filter((a) => a.status === 'approved')
          .map((a) => a.residentId),
      );
      const ids = signedIn
        ? [signedIn.residentId]
        : (await residents.ofDevice(ctx.tenant, device.address)).filter((id) => approved.has(id));
      if (ids.length !== 1)
        return ids.length === 0 ? 'no resident on the device' : 'several residents on the device';
      const r = await residents.get(ctx.tenant, ids[0] ?? '');
      return r ? { resident: r, device: device.address } : 'no such resident';
    }
    const approved = (await accounts.approvals(ctx.tenant, account.id)).filter(
      (a) => a.status === 'approved',
    );
    if (approved.length !== 1)
      return approved.length === 0
        ? 'the account is approved for no resident'
        : 'no callee given and the account may call several residents';
    const r = await residents.get(ctx.tenant, approved[0]?.residentId ?? '');
    return r ? { resident: r } : 'no such resident';
  }

  /** The resident's devices among `addresses` that are active (an app: signed in by this resident). */
  async #activeDevices(
    tenant: string,
    residentId: string,
    addresses: readonly string[],
    settings: BuiltinSettings,
  ): Promise<{ targets: DeviceTarget[]; details: string[] }> {
    const now = this.#o.now();
    const targets: DeviceTarget[] = [];
    const details: string[] = [];
    for (const address of addresses) {
      const device: StoredDevice | undefined = await this.#o.store.devices.get(tenant, address);
      if (!device) {
        details.push(`${address}: unknown`);
        continue;
      }
      const activity = deviceActivity(device, this.#o.presence, settings.callingHours, now);
      const otherResident =
        activity.signedIn !== undefined && activity.signedIn.residentId !== residentId;
      details.push(
        otherResident
          ? `${address}: another resident signed in`
          : describeActivity(address, activity, device.kind),
      );
      if (activity.active && !otherResident)
        targets.push({ address, kind: device.kind, sipUser: device.sipUser });
    }
    return { targets, details };
  }
}
