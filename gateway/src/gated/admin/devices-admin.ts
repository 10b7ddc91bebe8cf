/**
 * Devices of a gated facility: `PUT`/`GET`/`DELETE /v1/gated/<tenant>/devices/<address>`
 * and `POST …/credential`. A new device gets a SIP username (Parley's, unique
 * across tenants, so no tenant learns another's addresses) and a random secret,
 * both answered once; only the secret's digest H(A1) is stored, which is what
 * the registrar and the device sign-in check.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { callingHoursSchema } from '../../config/index.js';
import { digestHa1 } from '../../sip/message/index.js';
import { deviceActivity } from '../devices/device-activity.js';
import type { Device, StoredDevice } from '../types.js';
import { bad, checkId, iso, notFound, parse, type Actor, type AdminDeps } from './common.js';

export const deviceInputSchema = z.strictObject({
  /** Required to create. */
  kind: z.enum(['sip', 'app']).optional(),
  name: z.string().trim().min(1).max(100).nullable().optional(),
  enabled: z.boolean().optional(),
  /** Weekly hours it may ring; null: the tenant's default. */
  callingHours: callingHoursSchema.nullable().optional(),
  /** Blocked until this instant (ISO 8601); null lifts the block. */
  blockedUntil: z.iso.datetime({ offset: true }).nullable().optional(),
});

export interface DeviceCredential {
  readonly sipUser: string;
  /** The SIP password and the device's sign-in secret: shown once. */
  readonly secret: string;
}

export class DevicesAdmin {
  readonly #d: AdminDeps;

  constructor(deps: AdminDeps) {
    this.#d = deps;
  }

  /** The device with its live state (registered, who is signed in, blocked now). */
  view(device: Device) {
    const settings = this.#d.tenants[device.tenant];
    const a = deviceActivity(device, this.#d.presence, settings?.callingHours, this.#d.now());
    return {
      address: device.address,
      kind: device.kind,
      name: device.name,
      sipUser: device.sipUser,
      enabled: device.enabled,
      callingHours: device.callingHours,
      blockedUntil: iso(device.blockedUntil),
      active: a.active,
      registered: a.registered,
      signedIn: a.signedIn
        ? { residentId: a.signedIn.residentId, until: iso(a.signedIn.until) }
        : null,
      blocked: a.blocked,
      createdAt: iso(device.createdAt),
      updatedAt: iso(device.updatedAt),
    };
  }

  async put(
    actor: Actor,
    address: string,
    body: unknown,
  ): Promise<{ created: boolean; device: Device; credential?: DeviceCredential }> {
    checkId(address, 'device address');
    const input = parse(deviceInputSchema, body);
    const { store } = this.#d;
    const existing = await store.devices.get(actor.tenant, address);
    if (!existing && input.kind === undefined)
      throw bad('kind: required to create a device (sip or app)');
    const now = this.#d.now();
    const credential = existing ? undefined : this.#newCredential();
    const next: StoredDevice = {
      tenant: actor.tenant,
      address,
      kind: input.kind ?? existing?.kind ?? 'sip',
      name: input.name === undefined ? (existing?.name ?? null) : input.name,
      sipUser: existing?.sipUser ?? credential?.sipUser ?? '',
      enabled: input.enabled ?? existing?.enabled ?? true,
      callingHours:
        input.callingHours === undefined ? (existing?.callingHours ?? null) : input.callingHours,
      blockedUntil:
        input.blockedUntil === undefined
          ? (existing?.blockedUntil ?? null)
          : input.blockedUntil === null
            ? null
            : Date.parse(input.blockedUntil),
      ...(existing ? pickSecret(existing) : this.#secretFields(credential!)),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await store.transaction(async (tx) => {
      await tx.devices.put(next);
      await tx.audit.append({
        tenant: actor.tenant,
        at: now,
        actor: actor.id,
        action: existing ? 'device.update' : 'device.create',
        entity: 'device',
        entityId: address,
        before: existing ? publicFields(existing) : null,
        after: publicFields(next),
      });
    });
    return credential
      ? { created: true, device: next, credential }
      : { created: !existing, device: next };
  }

  /** A new secret: the old one stops working for REGISTER and sign-in; the device's sessions end. */
  async rotate(actor: Actor, address: string): Promise<DeviceCredential> {
    const { store } = this.#d;
    const existing = await store.devices.get(actor.tenant, address);
    if (!existing) throw notFound('device');
    const fresh = this.#newCredential(existing.sipUser);
    const next: StoredDevice = {
      ...existing,
      ...this.#secretFields(fresh),
      updatedAt: this.#d.now(),
    };
    await store.transaction(async (tx) => {
      await tx.devices.put(next);
      await tx.audit.append({
        tenant: actor.tenant,
        at: next.updatedAt,
        actor: actor.id,
        action: 'device.credential',
        entity: 'device',
        entityId: address,
        before: { credential: 'replaced' },
        after: { credential: 'new' },
      });
    });
    this.#d.presence.forget(actor.tenant, address);
    return fresh;
  }

  async get(tenant: string, address: string): Promise<Device> {
    const d = await this.#d.store.devices.get(tenant, address);
    if (!d) throw notFound('device');
    return d;
  }

  async remove(actor: Actor, address: string): Promise<void> {
    const { store } = this.#d;
    const existing = await store.devices.get(actor.tenant, address);
    if (!existing) throw notFound('device');
    await store.transaction(async (tx) => {
      await tx.devices.delete(actor.tenant, address);
      await tx.audit.append({
        tenant: actor.tenant,
        at: this.#d.now(),
        actor: actor.id,
        action: 'device.delete',
        entity: 'device',
        entityId: address,
        before: publicFields(existing),
        after: null,
      });
    });
    this.#d.presence.forget(actor.tenant, address);
  }

  #newCredential(sipUser = `gd-${randomBytes(8).toString('hex')}`): DeviceCredential {
    return { sipUser, secret: randomBytes(24).toString('base64url') };
  }

  #secretFields(c: DeviceCredential) {
    return {
      realm: this.#d.realm,
      ha1: {
        MD5: digestHa1(c.sipUser, this.#d.realm, c.secret, 'MD5'),
        'SHA-256': digestHa1(c.sipUser, this.#d.realm, c.secret, 'SHA-256'),
      },
      credentialStamp: randomBytes(8).toString('hex'),
    };
  }
}

const pickSecret = (d: StoredDevice) => ({
  realm: d.realm,
  ha1: d.ha1,
  credentialStamp: d.credentialStamp,
});

/** A device as the audit log keeps it: no digest, no stamp. */
function publicFields(d: StoredDevice) {
  return {
    address: d.address,
    kind: d.kind,
    name: d.name,
    sipUser: d.sipUser,
    enabled: d.enabled,
    callingHours: d.callingHours,
    blockedUntil: iso(d.blockedUntil),
  };
}
