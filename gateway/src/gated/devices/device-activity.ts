/**
 * Whether a device is active (S4: "confirm that the resident device is
 * active"): enabled by the facility, registered, signed in by a resident when
 * it is an app, and not blocked by its schedule (a block until a time, or
 * outside its calling hours). Answers each input, so the decision can say
 * which one failed.
 */
import {
  compileBusinessHours,
  type BusinessHours,
  type CompiledBusinessHours,
} from '@parley/shared/screening';
import type { CallingHours } from '../../config/index.js';
import type { Device } from '../types.js';
import type { DevicePresence, SignIn } from './device-presence.js';

export interface DeviceActivity {
  readonly active: boolean;
  readonly enabled: boolean;
  readonly registered: boolean;
  /** Apps: the resident signed in (undefined for SIP phones, which have no sign-in). */
  readonly signedIn: SignIn | undefined;
  /** Why the schedule blocks it now, if it does. */
  readonly blocked: 'blocked_until' | 'outside_calling_hours' | null;
}

/** Compiled calling hours, by their JSON (a few distinct schedules serve every device). */
const compiled = new Map<string, CompiledBusinessHours>();

function hoursOf(hours: CallingHours): CompiledBusinessHours {
  const k = JSON.stringify(hours);
  let c = compiled.get(k);
  if (!c) {
    c = compileBusinessHours(hours as BusinessHours);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(k, c);
  }
  return c;
}

export function deviceActivity(
  device: Device,
  presence: DevicePresence,
  defaultHours: CallingHours | undefined,
  now: number,
): DeviceActivity {
  const registered = presence.contacts(device.tenant, device.address, now).length > 0;
  const signedIn =
    device.kind === 'app' ? presence.signedIn(device.tenant, device.address, now) : undefined;
  const hours = device.callingHours ?? defaultHours;
  const blocked =
    device.blockedUntil !== null && device.blockedUntil > now
      ? 'blocked_until'
      : hours && !hoursOf(hours).isOpen(now)
        ? 'outside_calling_hours'
        : null;
  const active =
    device.enabled &&
    registered &&
    (device.kind === 'sip' || signedIn !== undefined) &&
    blocked === null;
  return { active, enabled: device.enabled, registered, signedIn, blocked };
}

/** The activity in a few words, for a decision's check detail. */
export function describeActivity(address: string, a: DeviceActivity, kind: 'sip' | 'app'): string {
  const problems = [
    a.enabled ? null : 'disabled',
    a.registered ? null : 'not registered',
    kind === 'app' && !a.signedIn ? 'no resident signed in' : null,
    a.blocked === 'blocked_until' ? 'blocked' : null,
    a.blocked === 'outside_calling_hours' ? 'outside calling hours' : null,
  ].filter((p) => p !== null);
  return `${address}: ${problems.length === 0 ? 'active' : problems.join(', ')}`;
}
