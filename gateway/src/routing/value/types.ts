import type { CustomerHistory, ProviderScore } from '@parley/shared/protocol';
import type { PrivateClaims } from '@parley/shared/tokens';

/** The wire types of the routing decision are shared with the desk (`@parley/shared/protocol`). */
export type {
  CustomerHistory,
  ProviderScore,
  RoutingCandidate as CandidateView,
  RoutingDecision,
} from '@parley/shared/protocol';

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
