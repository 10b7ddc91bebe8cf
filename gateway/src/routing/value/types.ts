import type { PrivateClaims } from '@parley/shared/tokens';

/** What one scoring provider (the company's benefit or burden endpoint) answered. */
export interface ProviderScore {
  readonly score: number;
  /** True when the provider failed and the configured default was used. */
  readonly fallback: boolean;
  /** Why it failed (timeout, http_503, bad_body, too_large, ...), when it did. */
  readonly error?: string | undefined;
  /** Answer time (0 from the cache). */
  readonly ms: number;
  readonly cached: boolean;
}

/** Parley's own history of the customer, in the tenant's window. */
export interface CustomerHistory {
  readonly windowDays: number;
  readonly calls: number;
  readonly answeredCalls: number;
  readonly minutes: number;
  /** Calls that came within 24 h of the previous one (the customer had to call back). */
  readonly repeatContacts: number;
}

/** Everything a value algorithm sees. */
export interface ValueInput {
  readonly tenant: string;
  readonly customerId: string | undefined;
  readonly privateClaims: PrivateClaims;
  readonly benefit: ProviderScore;
  readonly burden: ProviderScore;
  readonly history: CustomerHistory;
}

export interface ValueResult {
  /** The customer's value to the tenant right now. */
  readonly value: number;
  /** The value band, e.g. `high` or `standard`: queues map bands to agent tiers. */
  readonly tier: string;
  /** The terms that made the value, for the desk and the record. */
  readonly terms?: Readonly<Record<string, number>>;
}

/**
 * A user-value algorithm. Built-in ones are weighted formulas; a tenant may
 * supply its own as an ES module whose default export is one of these.
 */
export interface ValueAlgorithm {
  readonly name: string;
  readonly version: string;
  compute(input: ValueInput): ValueResult | Promise<ValueResult>;
}

/** The routing decision stored with the call and shown on the desk. */
export interface RoutingDecision {
  readonly value: number;
  readonly tier: string;
  readonly terms: Readonly<Record<string, number>>;
  readonly algorithm: { readonly name: string; readonly version: string; readonly error?: string };
  readonly benefit: ProviderScore;
  readonly burden: ProviderScore;
  readonly history: CustomerHistory;
  readonly strategy: 'sequential' | 'simultaneous';
  /** Agents in the order they would be rung, with what put them there. */
  readonly candidates: readonly CandidateView[];
  readonly decidedInMs: number;
}

export interface CandidateView {
  readonly agentId: string;
  readonly agentTier: string | undefined;
  /** 0 is the best band match. */
  readonly rank: number;
  readonly idleMs: number;
  readonly recentHandleSeconds: number | undefined;
}
