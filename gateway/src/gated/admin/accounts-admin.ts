/**
 * Inbound calling accounts of non-residents: `POST /v1/gated/<tenant>/accounts`,
 * `GET`/`PATCH …/accounts/<id>`, the residents the facility approves them for
 * (`PUT`/`DELETE …/accounts/<id>/residents/<residentId>`), prepaid credits
 * (`POST …/accounts/<id>/credits`, idempotent by key) and charges. Phone
 * numbers are E.164 (libphonenumber-js); only those the facility marks
 * verified identify a caller. Each change is one store call (atomic on its
 * own); its audit entry is appended once it committed.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import { toE164 } from '../../trunks/e164.js';
import type { Account, AccountPhone, Approval, StoredAccount } from '../types.js';
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

const phoneInput = z.strictObject({
  /** E.164, or national with `country`. */
  number: z.string().min(3).max(64),
  /** ISO 3166 country for a national number. */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  /** The facility verified it (a call back, a document): only then it identifies the caller. */
  verified: z.boolean().default(false),
});

const fields = {
  name: z.string().trim().min(1).max(100),
  phones: z.array(phoneInput).max(10),
  webLogin: z.string().trim().min(1).max(128).nullable(),
  /** Minor units per started minute. */
  ratePerMinute: z.number().int().min(0).max(1_000_000),
  /** Write-only: the account PIN a caller keys after the account number. */
  pin: z.string().max(64),
};

export const accountCreateSchema = z.strictObject({
  ...fields,
  phones: fields.phones.default([]),
  webLogin: fields.webLogin.optional(),
  ratePerMinute: fields.ratePerMinute.optional(),
  pin: fields.pin.optional(),
  /** The account number callers key; default: 10 random digits. */
  number: z
    .string()
    .regex(/^\d{4,16}$/, '4-16 digits')
    .optional(),
  status: z.enum(['active', 'suspended']).default('active'),
});

export const accountUpdateSchema = z.strictObject({
  name: fields.name.optional(),
  phones: fields.phones.optional(),
  webLogin: fields.webLogin.optional(),
  ratePerMinute: fields.ratePerMinute.optional(),
  pin: fields.pin.optional(),
  status: z.enum(['active', 'suspended', 'closed']).optional(),
});

export const approvalSchema = z.strictObject({ status: z.enum(['approved', 'pending', 'denied']) });

export const creditSchema = z.strictObject({
  /** Minor units; negative takes money back (never below zero). */
  amount: z
    .number()
    .int()
    .min(-1_000_000_000)
    .max(1_000_000_000)
    .refine((n) => n !== 0, 'not 0'),
  /** Idempotency key: the same credit sent twice counts once. */
  key: z.string().min(1).max(100),
  note: z.string().max(200).optional(),
});

export class AccountsAdmin {
  readonly #d: AdminDeps;

  constructor(deps: AdminDeps) {
    this.#d = deps;
  }

  async view(a: Account) {
    const approvals = await this.#d.store.accounts.approvals(a.tenant, a.id);
    return {
      id: a.id,
      number: a.number,
      name: a.name,
      phones: a.phones.map((p) => ({
        number: p.number,
        verified: p.verifiedAt !== null,
        verifiedAt: iso(p.verifiedAt),
      })),
      webLogin: a.webLogin,
      ratePerMinute: a.ratePerMinute,
      balance: a.balance,
      currency: this.#d.tenants[a.tenant]?.currency ?? null,
      status: a.status,
      pinSet: a.pinSet,
      residents: approvals.map(approvalView),
      createdAt: iso(a.createdAt),
      updatedAt: iso(a.updatedAt),
    };
  }

  async create(actor: Actor, body: unknown): Promise<Account> {
    const input = parse(accountCreateSchema, body);
    const settings = this.#d.tenants[actor.tenant];
    if (!settings) throw notFound('tenant');
    if (input.pin !== undefined) checkPin(input.pin, settings, 'pin');
    const { store } = this.#d;
    const id = `acc_${randomBytes(10).toString('hex')}`;
    const number = input.number ?? (await this.#freeNumber(actor.tenant));
    if (await store.accounts.byNumber(actor.tenant, number))
      throw conflict(`number: "${number}" is another account's`);
    const now = this.#d.now();
    const phones = await this.#phones(actor.tenant, input.phones, [], now, undefined);
    if (input.webLogin) await this.#webLoginFree(actor.tenant, input.webLogin, undefined);
    const account: StoredAccount = {
      tenant: actor.tenant,
      id,
      number,
      name: input.name,
      phones,
      webLogin: input.webLogin ?? null,
      ratePerMinute: input.ratePerMinute ?? settings.defaultRatePerMinute,
      balance: 0,
      status: input.status,
      pinSet: input.pin !== undefined,
      pinHash: input.pin === undefined ? null : await this.#d.pins.hash(input.pin),
      createdAt: now,
      updatedAt: now,
    };
    await store.accounts.insert(account);
    await this.#audit(actor, 'account.create', id, null, {
      ...audited(account),
      ...(input.pin ? { pin: 'set' } : {}),
    });
    return account;
  }

  async update(actor: Actor, id: string, body: unknown): Promise<Account> {
    const input = parse(accountUpdateSchema, body);
    const settings = this.#d.tenants[actor.tenant];
    const { store } = this.#d;
    const existing = await store.accounts.get(actor.tenant, id);
    if (!existing || !settings) throw notFound('account');
    if (input.pin !== undefined) checkPin(input.pin, settings, 'pin');
    if (input.webLogin) await this.#webLoginFree(actor.tenant, input.webLogin, id);
    const now = this.#d.now();
    const next: StoredAccount = {
      ...existing,
      name: input.name ?? existing.name,
      phones: input.phones
        ? await this.#phones(actor.tenant, input.phones, existing.phones, now, id)
        : existing.phones,
      webLogin: input.webLogin === undefined ? existing.webLogin : input.webLogin,
      ratePerMinute: input.ratePerMinute ?? existing.ratePerMinute,
      status: input.status ?? existing.status,
      pinSet: input.pin !== undefined || existing.pinSet,
      pinHash: input.pin === undefined ? existing.pinHash : await this.#d.pins.hash(input.pin),
      updatedAt: now,
    };
    await store.accounts.update(next);
    await this.#audit(actor, 'account.update', id, audited(existing), {
      ...audited(next),
      ...(input.pin !== undefined ? { pin: 'changed' } : {}),
    });
    return (await store.accounts.get(actor.tenant, id)) ?? next;
  }

  async get(tenant: string, id: string): Promise<Account> {
    const a = await this.#d.store.accounts.get(tenant, id);
    if (!a) throw notFound('account');
    return a;
  }

  async setApproval(
    actor: Actor,
    accountId: string,
    residentId: string,
    body: unknown,
  ): Promise<{ created: boolean; approval: Approval }> {
    checkId(residentId, 'resident id');
    const input = parse(approvalSchema, body);
    const { store } = this.#d;
    if (!(await store.accounts.get(actor.tenant, accountId))) throw notFound('account');
    if (!(await store.residents.get(actor.tenant, residentId)))
      throw bad(`no resident "${residentId}"`);
    const before = await store.accounts.approval(actor.tenant, accountId, residentId);
    const approval: Approval = {
      tenant: actor.tenant,
      accountId,
      residentId,
      status: input.status,
      decidedAt: input.status === 'pending' ? null : this.#d.now(),
      decidedBy: input.status === 'pending' ? null : actor.id,
    };
    await store.accounts.setApproval(approval);
    await this.#audit(
      actor,
      'approval.set',
      `${accountId}/${residentId}`,
      before ? approvalView(before) : null,
      approvalView(approval),
      'approval',
    );
    return { created: !before, approval };
  }

  async removeApproval(actor: Actor, accountId: string, residentId: string): Promise<void> {
    const { store } = this.#d;
    const before = await store.accounts.approval(actor.tenant, accountId, residentId);
    if (!before) throw notFound('approval');
    if (!(await store.accounts.deleteApproval(actor.tenant, accountId, residentId))) return;
    await this.#audit(
      actor,
      'approval.delete',
      `${accountId}/${residentId}`,
      approvalView(before),
      null,
      'approval',
    );
  }

  async credit(
    actor: Actor,
    accountId: string,
    body: unknown,
  ): Promise<{ balance: number; duplicate: boolean }> {
    const input = parse(creditSchema, body);
    const { store } = this.#d;
    if (!(await store.accounts.get(actor.tenant, accountId))) throw notFound('account');
    const result = await store.billing.credit({
      tenant: actor.tenant,
      accountId,
      key: input.key,
      amount: input.amount,
      note: input.note ?? null,
      actor: actor.id,
      at: this.#d.now(),
    });
    if (!result.ok) {
      if (result.reason === 'key_reused')
        throw conflict(`key: "${input.key}" was used for another credit`);
      if (result.reason === 'insufficient')
        throw conflict('amount: the balance would go below zero');
      throw notFound('account');
    }
    if (!result.duplicate)
      await this.#audit(
        actor,
        'account.credit',
        accountId,
        // The balance the credit moved (another gateway's charge may have moved it since a read).
        { balance: result.balance - input.amount },
        {
          balance: result.balance,
          amount: input.amount,
          key: input.key,
          note: input.note ?? null,
        },
      );
    return { balance: result.balance, duplicate: result.duplicate };
  }

  async #freeNumber(tenant: string): Promise<string> {
    for (;;) {
      const n = String(randomInt(1_000_000_000, 10_000_000_000));
      if (!(await this.#d.store.accounts.byNumber(tenant, n))) return n;
    }
  }

  async #webLoginFree(tenant: string, login: string, id: string | undefined): Promise<void> {
    const holder = await this.#d.store.accounts.byWebLogin(tenant, login);
    if (holder && holder.id !== id) throw conflict('webLogin: another account has it');
  }

  async #phones(
    tenant: string,
    input: readonly z.output<typeof phoneInput>[],
    before: readonly AccountPhone[],
    now: number,
    id: string | undefined,
  ): Promise<AccountPhone[]> {
    const out = new Map<string, AccountPhone>();
    for (const [i, p] of input.entries()) {
      const e164 = toE164(p.number, p.country);
      if (!e164) throw bad(`phones.${i}.number: not a possible telephone number`);
      if (await this.#d.store.accounts.phoneHolder(tenant, e164, id))
        throw conflict(`phones.${i}.number: ${e164} is on another account`);
      const known = before.find((b) => b.number === e164);
      out.set(e164, { number: e164, verifiedAt: p.verified ? (known?.verifiedAt ?? now) : null });
    }
    return [...out.values()];
  }

  async #audit(
    actor: Actor,
    action: string,
    entityId: string,
    before: unknown,
    after: unknown,
    entity: 'account' | 'approval' = 'account',
  ): Promise<void> {
    const entry = {
      tenant: actor.tenant,
      at: this.#d.now(),
      actor: actor.id,
      action,
      entity,
      entityId,
      before,
      after,
    };
    try {
      await this.#d.store.audit.append(entry);
    } catch (err) {
      // The change committed: answering 500 would have the client repeat it (a second account
      // for a create with a number given here). The entry goes to the log, whole, instead.
      this.#d.log?.error({ err, entry }, 'gated audit entry not stored');
    }
  }
}

export function approvalView(a: Approval) {
  return {
    residentId: a.residentId,
    status: a.status,
    decidedAt: iso(a.decidedAt),
    decidedBy: a.decidedBy,
  };
}

/** An account as the audit log keeps it: no PIN hash. */
function audited(a: StoredAccount) {
  return {
    number: a.number,
    name: a.name,
    phones: a.phones.map((p) => ({ number: p.number, verified: p.verifiedAt !== null })),
    webLogin: a.webLogin,
    ratePerMinute: a.ratePerMinute,
    status: a.status,
    pinSet: a.pinSet,
  };
}
