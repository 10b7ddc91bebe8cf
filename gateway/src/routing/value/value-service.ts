/**
 * The customer's value for one call: the company's benefit and burden
 * providers and Parley's own history, fetched in parallel, then the tenant's
 * algorithm. A provider that fails gives its default; an algorithm that throws
 * or answers nonsense gives the built-in default; the decision records both.
 */
import type { PrivateClaims } from '@parley/shared/tokens';
import type { Logger } from '../../observability/index.js';
import { DEFAULT_WEIGHTED, weightedAlgorithm } from './builtin.js';
import { ProviderClient, type ProviderConfig } from './provider-client.js';
import type {
  CustomerHistory,
  ProviderScore,
  ValueAlgorithm,
  ValueInput,
  ValueResult,
} from './types.js';

export interface TenantValueConfig {
  readonly benefit?: ProviderConfig | undefined;
  readonly burden?: ProviderConfig | undefined;
  readonly algorithm: ValueAlgorithm;
  readonly historyWindowDays: number;
}

export interface ValueEvaluation {
  readonly result: ValueResult;
  readonly algorithm: { readonly name: string; readonly version: string; readonly error?: string };
  readonly benefit: ProviderScore;
  readonly burden: ProviderScore;
  readonly history: CustomerHistory;
}

export type HistoryLookup = (
  tenant: string,
  customerId: string,
  sinceMs: number,
  windowDays: number,
) => CustomerHistory;

const NO_PROVIDER = (): Promise<ProviderScore> =>
  Promise.resolve({ score: 0, fallback: true, error: 'not_configured', ms: 0, cached: false });

export class ValueService {
  readonly #tenants = new Map<
    string,
    { config: TenantValueConfig; benefit?: ProviderClient; burden?: ProviderClient }
  >();
  readonly #history: HistoryLookup;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #fallback = weightedAlgorithm(DEFAULT_WEIGHTED);

  constructor(deps: {
    tenants: Readonly<Record<string, TenantValueConfig>>;
    history: HistoryLookup;
    logger: Logger;
    now?: () => number;
    fetch?: typeof fetch;
  }) {
    this.#history = deps.history;
    this.#log = deps.logger.child({ module: 'value' });
    this.#now = deps.now ?? Date.now;
    const options = { ...(deps.fetch ? { fetch: deps.fetch } : {}), now: this.#now };
    for (const [tenant, config] of Object.entries(deps.tenants)) {
      this.#tenants.set(tenant, {
        config,
        ...(config.benefit ? { benefit: new ProviderClient(config.benefit, options) } : {}),
        ...(config.burden ? { burden: new ProviderClient(config.burden, options) } : {}),
      });
    }
  }

  has(tenant: string): boolean {
    return this.#tenants.has(tenant);
  }

  async evaluate(tenant: string, privateClaims: PrivateClaims): Promise<ValueEvaluation> {
    const entry = this.#tenants.get(tenant);
    const windowDays = entry?.config.historyWindowDays ?? 30;
    const customerId =
      typeof privateClaims.customerId === 'string' ? privateClaims.customerId : undefined;
    const history: CustomerHistory =
      customerId !== undefined
        ? this.#history(tenant, customerId, this.#now() - windowDays * 86_400_000, windowDays)
        : { windowDays, calls: 0, answeredCalls: 0, minutes: 0, repeatContacts: 0 };
    const context = { history };
    const [benefit, burden] = await Promise.all([
      entry?.benefit ? entry.benefit.score(tenant, customerId, context) : NO_PROVIDER(),
      entry?.burden ? entry.burden.score(tenant, customerId, context) : NO_PROVIDER(),
    ]);
    const input: ValueInput = { tenant, customerId, privateClaims, benefit, burden, history };
    const algorithm = entry?.config.algorithm ?? this.#fallback;
    try {
      const result = await algorithm.compute(input);
      if (
        !result ||
        typeof result.value !== 'number' ||
        !Number.isFinite(result.value) ||
        typeof result.tier !== 'string'
      ) {
        throw new Error('compute() must return { value: finite number, tier: string }');
      }
      return {
        result,
        algorithm: { name: algorithm.name, version: algorithm.version },
        benefit,
        burden,
        history,
      };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      this.#log.warn(
        { tenant, algorithm: algorithm.name, err: message },
        'value algorithm failed; using the built-in default',
      );
      return {
        result: this.#fallback.compute(input) as ValueResult,
        algorithm: {
          name: this.#fallback.name,
          version: this.#fallback.version,
          error: `${algorithm.name}@${algorithm.version}: ${message}`,
        },
        benefit,
        burden,
        history,
      };
    }
  }
}
