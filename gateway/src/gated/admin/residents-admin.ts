/** Residents of a gated facility: `PUT`/`GET`/`DELETE /v1/gated/<tenant>/residents/<id>`. */
import { z } from 'zod';
import type { Resident, StoredResident } from '../types.js';
import {
  bad,
  checkId,
  checkPin,
  conflict,
  iso,
  notFound,
  parse,
  type Actor,
  type AdminDeps,
} from './common.js';

export const residentInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  /** Digits a caller keys to choose the resident; null removes it. */
  number: z
    .string()
    .regex(/^\d{1,16}$/, '1-16 digits')
    .nullable()
    .optional(),
  status: z.enum(['active', 'inactive']).optional(),
  /** Write-only; stored as a scrypt hash. */
  pin: z.string().max(64).optional(),
  /** Address identifiers of the resident's devices (each must exist). */
  devices: z.array(z.string().max(64)).max(20).optional(),
});

export function residentView(r: Resident) {
  return {
    id: r.id,
    name: r.name,
    number: r.number,
    status: r.status,
    devices: r.devices,
    pinSet: r.pinSet,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

/** What the audit log keeps of a resident: everything but the PIN's hash. */
const audited = (r: StoredResident | undefined) => (r ? residentView(r) : null);

export class ResidentsAdmin {
  readonly #d: AdminDeps;

  constructor(deps: AdminDeps) {
    this.#d = deps;
  }

  /** Creates (name required) or changes the resident; absent fields keep their value. */
  async put(
    actor: Actor,
    id: string,
    body: unknown,
  ): Promise<{ created: boolean; resident: Resident }> {
    checkId(id, 'resident id');
    const input = parse(residentInputSchema, body);
    const settings = this.#d.tenants[actor.tenant];
    if (!settings) throw notFound('tenant');
    if (input.pin !== undefined) checkPin(input.pin, settings, 'pin');
    const { store } = this.#d;
    const existing = await store.residents.get(actor.tenant, id);
    if (!existing && input.name === undefined) throw bad('name: required to create a resident');
    for (const address of input.devices ?? [])
      if (!(await store.devices.get(actor.tenant, address)))
        throw bad(`devices: no device "${address}"`);
    if (input.number) {
      const holder = await store.residents.byNumber(actor.tenant, input.number);
      if (holder && holder.id !== id)
        throw conflict(`number: "${input.number}" is another resident's`);
    }
    const pinHash =
      input.pin === undefined ? (existing?.pinHash ?? null) : await this.#d.pins.hash(input.pin);
    const now = this.#d.now();
    const next: StoredResident = {
      tenant: actor.tenant,
      id,
      name: input.name ?? existing?.name ?? '',
      number: input.number === undefined ? (existing?.number ?? null) : input.number,
      status: input.status ?? existing?.status ?? 'active',
      devices: input.devices ? [...new Set(input.devices)].sort() : (existing?.devices ?? []),
      pinSet: pinHash !== null,
      pinHash,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await store.transaction(async (tx) => {
      await tx.residents.put(next);
      await tx.audit.append({
        tenant: actor.tenant,
        at: now,
        actor: actor.id,
        action: existing ? 'resident.update' : 'resident.create',
        entity: 'resident',
        entityId: id,
        before: audited(existing),
        after: { ...residentView(next), ...(input.pin !== undefined ? { pin: 'changed' } : {}) },
      });
    });
    return { created: !existing, resident: next };
  }

  async get(tenant: string, id: string): Promise<Resident> {
    const r = await this.#d.store.residents.get(tenant, id);
    if (!r) throw notFound('resident');
    return r;
  }

  /** The resident and its audit entry, then its approvals (PostgreSQL's accounts have no cascade). */
  async remove(actor: Actor, id: string): Promise<void> {
    const { store } = this.#d;
    const existing = await store.residents.get(actor.tenant, id);
    if (!existing) throw notFound('resident');
    // Its approvals first (PostgreSQL's with storage.kind postgres): a delete that fails between
    // the two is done again by a retry, and never leaves approvals that a new resident given the
    // same id would inherit.
    await store.accounts.deleteResidentApprovals(actor.tenant, id);
    await store.transaction(async (tx) => {
      await tx.residents.delete(actor.tenant, id);
      await tx.audit.append({
        tenant: actor.tenant,
        at: this.#d.now(),
        actor: actor.id,
        action: 'resident.delete',
        entity: 'resident',
        entityId: id,
        before: audited(existing),
        after: null,
      });
    });
  }
}
