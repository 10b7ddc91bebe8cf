/**
 * What the facility's admin API shares: who is acting, the errors it answers
 * (from the registry: 400 `bad_request` with the field, 409 `conflict`, 404
 * `not_found`), zod parsing, and views without secrets (a PIN is `pinSet`,
 * never its hash; a device credential is shown once, when made).
 */
import type { z } from 'zod';
import { ParleyError } from '@parley/shared/errors';
import type { GatedTenantConfig } from '../../config/index.js';
import type { Logger } from '../../observability/index.js';
import type { DevicePresence } from '../devices/device-presence.js';
import type { PinHasher } from '../pins/pin-hash.js';
import type { GatedStore } from '../store/index.js';

export interface AdminDeps {
  readonly store: GatedStore;
  readonly presence: DevicePresence;
  readonly pins: PinHasher;
  /** The gated tenants and their settings. */
  readonly tenants: Readonly<Record<string, GatedTenantConfig>>;
  /** The digest realm device credentials are made in (the gateway's SIP domain). */
  readonly realm: string;
  readonly now: () => number;
  /** Where what cannot be stored is told (an audit entry after its change committed). */
  readonly log?: Logger;
}

/** Who acts, for which tenant (already checked against the API key). */
export interface Actor {
  readonly tenant: string;
  /** `api:<key id>`. */
  readonly id: string;
}

export const bad = (detail: string) => new ParleyError('bad_request', detail, { expose: true });
export const conflict = (detail: string) => new ParleyError('conflict', detail, { expose: true });
export const notFound = (what: string) =>
  new ParleyError('not_found', `no such ${what}`, { expose: true });

/** Parses a body; the first problem becomes a 400 naming its field. */
export function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw bad(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}

/** Ids chosen by the facility (residents, device addresses): safe in URLs, SIP and logs. */
export const ID = /^[A-Za-z0-9._-]{1,64}$/;

export function checkId(id: string, what: string): void {
  if (!ID.test(id)) throw bad(`the ${what} is 1-64 of A-Z a-z 0-9 . _ -`);
}

/** A PIN of the tenant's length, digits only. */
export function checkPin(pin: string, settings: GatedTenantConfig, field: string): void {
  const { minLength, maxLength } = settings.pin;
  if (!/^\d+$/.test(pin) || pin.length < minLength || pin.length > maxLength)
    throw bad(`${field}: ${minLength}-${maxLength} digits`);
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
