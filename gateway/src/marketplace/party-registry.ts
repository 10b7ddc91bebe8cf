/**
 * Advertisers and publishers as the API manages them, and the advertisers'
 * funds as the auction index knows them: every input is validated whole
 * before one atomic write, so a refused request leaves nothing behind.
 * Listings are {@link MarketplaceRegistry}'s (`registry.ts`).
 */
import type { z } from 'zod';
import { ParleyError } from '@parley/shared/errors';
import { isUniqueViolation } from '../storage/postgres/pg-errors.js';
import { accountId, type MarketplaceAccounts } from './accounts.js';
import type { DirectoryStore } from './directory-store.js';
import type { MarketplaceEnvironment } from './environment.js';
import { newId, newPlacementKey } from './ids.js';
import type { ListingIndex } from './listing-index.js';
import type { Advertiser, Publisher } from './model.js';
import {
  advertiserCreate,
  advertiserUpdate,
  depositSchema,
  describeIssue,
  publisherCreate,
  publisherUpdate,
} from './validation.js';

export interface RegistryOptions {
  readonly store: DirectoryStore;
  readonly accounts: MarketplaceAccounts;
  readonly index: ListingIndex;
  readonly environment: MarketplaceEnvironment;
  readonly defaultSharePercent: number;
  readonly now: () => number;
  /** Numbers the marketplace hands out otherwise (tracking pools, fallback numbers): not static numbers. */
  readonly numberUse?: ((number: string) => string | undefined) | undefined;
}

export const bad = (detail: string) => new ParleyError('bad_request', detail, { expose: true });
export const notFound = (what: string) =>
  new ParleyError('not_found', `no such ${what}`, { expose: true });

export function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw bad(describeIssue(parsed.error));
  return parsed.data;
}

/** Who asks: a key bound to one tenant sees only that tenant. */
export type Viewer = string | undefined;
export const visible = (viewer: Viewer, tenant: string) =>
  viewer === undefined || viewer === tenant;

export abstract class PartyRegistry {
  protected readonly o: RegistryOptions;

  constructor(options: RegistryOptions) {
    this.o = options;
  }

  /**
   * The index learns every advertiser's funds from the ledger that holds the
   * money (with the shared ledger, in one query: what other gateways charged
   * and deposited), and listings paused for want of funds resume.
   */
  async refreshFunds(): Promise<void> {
    const { store, accounts } = this.o;
    const balances = accounts.shared ? await accounts.shared.advertiserBalances() : undefined;
    for (const a of store.advertisers()) {
      const available =
        balances === undefined
          ? await accounts.availableNow(a)
          : (balances.get(accountId.advertiser(a.id)) ?? 0) +
            (a.billing === 'credit' ? a.creditLimit : 0);
      this.#applyFunds(a, available);
    }
  }

  /** The directory's writes so far are in the database (the API answers after it). */
  async written(): Promise<void> {
    try {
      await this.o.store.flush?.();
    } catch (error) {
      // Another gateway's advertiser took the external id first (PostgreSQL's unique_violation).
      if (isUniqueViolation(error))
        throw new ParleyError(
          'conflict',
          'a row with this key exists (made through another gateway)',
          {
            expose: true,
          },
        );
      throw error;
    }
  }

  // --- advertisers ------------------------------------------------------

  async createAdvertiser(viewer: Viewer, body: unknown): Promise<Advertiser> {
    const input = parse(advertiserCreate, body);
    const tenant = this.tenantFor(viewer, input.tenant);
    const now = this.o.now();
    const advertiser: Advertiser = {
      id: newId('ad'),
      tenant,
      name: input.name,
      externalId: input.externalId ?? null,
      billing: input.billing,
      creditLimit: input.creditLimitCents ?? 0,
      createdAt: now,
      updatedAt: now,
    };
    this.#unique(() =>
      this.o.store.atomically(() => {
        this.o.store.putAdvertiser(advertiser);
        this.o.accounts.openAdvertiser(advertiser);
        if (input.initialBalanceCents && !this.o.accounts.shared)
          this.o.accounts.deposit(
            advertiser,
            input.initialBalanceCents,
            'initial',
            'initial balance',
            now,
          );
      }),
    );
    await this.written();
    await this.o.accounts.openShared(
      tenant,
      [{ id: accountId.advertiser(advertiser.id), kind: 'advertiser' }],
      now,
    );
    if (input.initialBalanceCents && this.o.accounts.shared)
      await this.o.accounts.depositNow(
        advertiser,
        input.initialBalanceCents,
        'initial',
        'initial balance',
        now,
      );
    this.o.index.setFunds(advertiser.id, await this.o.accounts.availableNow(advertiser));
    return advertiser;
  }

  async updateAdvertiser(viewer: Viewer, id: string, body: unknown): Promise<Advertiser> {
    const input = parse(advertiserUpdate, body);
    const old = this.advertiser(viewer, id);
    const billing = input.billing ?? old.billing;
    if (billing === 'prepaid' && input.creditLimitCents !== undefined)
      throw bad('creditLimitCents needs billing "credit"');
    const updated: Advertiser = {
      ...old,
      name: input.name ?? old.name,
      externalId: input.externalId === undefined ? old.externalId : input.externalId,
      billing,
      creditLimit: billing === 'prepaid' ? 0 : (input.creditLimitCents ?? old.creditLimit),
      updatedAt: this.o.now(),
    };
    this.#unique(() => this.o.store.putAdvertiser(updated));
    await this.written();
    await this.fundsChanged(updated.id);
    return updated;
  }

  advertiser(viewer: Viewer, id: string): Advertiser {
    const a = this.o.store.advertiser(id);
    if (!a || !visible(viewer, a.tenant)) throw notFound('advertiser');
    return a;
  }

  advertisers(viewer: Viewer): Advertiser[] {
    return this.o.store.advertisers(viewer);
  }

  async deposit(viewer: Viewer, id: string, body: unknown, headerKey: string | undefined) {
    const input = parse(depositSchema, body);
    const advertiser = this.advertiser(viewer, id);
    const key = input.key ?? headerKey;
    if (key === undefined)
      throw bad('a deposit needs an idempotency key (key field or Idempotency-Key header)');
    const result = await this.o.accounts.depositNow(
      advertiser,
      input.amountCents,
      key,
      input.memo,
      this.o.now(),
    );
    await this.fundsChanged(advertiser.id);
    return result;
  }

  /**
   * The advertiser's funds changed (a deposit, a charge, a refund, a new
   * credit limit): the index learns them, and listings paused for want of
   * funds resume when the money is there.
   */
  async fundsChanged(advertiserId: string): Promise<void> {
    const a = this.o.store.advertiser(advertiserId);
    if (!a) return;
    this.#applyFunds(a, await this.o.accounts.availableNow(a));
  }

  #applyFunds(a: Advertiser, available: number): void {
    this.o.index.setFunds(a.id, available);
    this.resumeFunded(a.id, available);
  }

  /** Listings of the advertiser paused for want of funds resume when `available` pays their bid. */
  protected abstract resumeFunded(advertiserId: string, available: number): void;

  // --- publishers -------------------------------------------------------

  async createPublisher(viewer: Viewer, body: unknown): Promise<Publisher> {
    const input = parse(publisherCreate, body);
    const tenant = this.tenantFor(viewer, input.tenant);
    const now = this.o.now();
    const publisher: Publisher = {
      id: newId('pb'),
      tenant,
      name: input.name,
      placementKey: newPlacementKey(),
      origins: input.origins,
      sharePercent: input.sharePercent ?? this.o.defaultSharePercent,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    this.o.store.atomically(() => {
      this.o.store.putPublisher(publisher);
      this.o.accounts.openPublisher(tenant, publisher.id, now);
    });
    await this.written();
    await this.o.accounts.openShared(
      tenant,
      [{ id: accountId.publisher(publisher.id), kind: 'publisher' }],
      now,
    );
    return publisher;
  }

  updatePublisher(viewer: Viewer, id: string, body: unknown): Publisher {
    const input = parse(publisherUpdate, body);
    const old = this.publisher(viewer, id);
    const updated: Publisher = {
      ...old,
      name: input.name ?? old.name,
      origins: input.origins ?? old.origins,
      sharePercent: input.sharePercent ?? old.sharePercent,
      status: input.status ?? old.status,
      placementKey: input.rotateKey ? newPlacementKey() : old.placementKey,
      updatedAt: this.o.now(),
    };
    this.o.store.putPublisher(updated);
    return updated;
  }

  publisher(viewer: Viewer, id: string): Publisher {
    const p = this.o.store.publisher(id);
    if (!p || !visible(viewer, p.tenant)) throw notFound('publisher');
    return p;
  }

  publishers(viewer: Viewer): Publisher[] {
    return this.o.store.publishers(viewer);
  }

  publisherByKey(key: string): Publisher | undefined {
    return this.o.store.publisherByKey(key);
  }

  protected tenantFor(viewer: Viewer, requested: string | undefined): string {
    if (viewer !== undefined) {
      if (requested !== undefined && requested !== viewer)
        throw new ParleyError('forbidden', 'this API key is bound to another tenant', {
          expose: true,
        });
      return viewer;
    }
    if (requested === undefined)
      throw bad('tenant: required with an API key not bound to a tenant');
    if (!this.o.environment.tenantExists(requested)) throw bad(`tenant: no tenant ${requested}`);
    return requested;
  }

  #unique<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof Error && /UNIQUE constraint failed: mp_advertisers/.test(error.message))
        throw new ParleyError('conflict', 'externalId: another advertiser of the tenant has it', {
          expose: true,
        });
      throw error;
    }
  }
}
