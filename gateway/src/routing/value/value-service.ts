/**
 * The customer's value for one call: the company's benefit and burden
 * providers and Parley's own history, fetched in parallel, then the tenant's
 * algorithm. A provider that fails gives its default; an algorithm that throws,
 * answers nonsense or does not answer in time gives the built-in default; the
 * decision records why.
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
  /** How long the algorithm's compute() may take; default {@link ALGORITHM_TIMEOUT_MS}. */
  readonly algorithmTimeoutMs?: number | undefined;
}

/**
 * How long a value algorithm may take before the built-in default is used.
 * A tenant module is code we do not control: one whose compute() never settles
 * would hold the visitor in `routing` for good. The built-in formulas answer in
 * microseconds and a module has its input already (the providers' scores are
 * fetched before it runs), so a second is generous. A module that blocks the
 * event loop (a synchronous endless loop) cannot be stopped this way; that
 * would take running it in a worker.
 */
export const ALGORITHM_TIMEOUT_MS = 1000;

/** compute() did not settle within the time limit. */
export class AlgorithmTimeoutError extends Error {
  override readonly name = 'AlgorithmTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timeout: no answer in ${timeoutMs} ms`);
  }
}

/** The value lookup itself failed (not a provider, not the algorithm): why, for the decision. */
export const LOOKUP_FAILED = 'value_lookup_failed';

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
) => Promise<CustomerHistory>;

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
        ? await this.#history(tenant, customerId, this.#now() - windowDays * 86_400_000, windowDays)
        : { windowDays, calls: 0, answeredCalls: 0, minutes: 0, repeatContacts: 0 };
    const context = { history };
    const [benefit, burden] = await Promise.all([
      entry?.benefit ? entry.benefit.score(tenant, customerId, context) : NO_PROVIDER(),
      entry?.burden ? entry.burden.score(tenant, customerId, context) : NO_PROVIDER(),
    ]);
    const input: ValueInput = { tenant, customerId, privateClaims, benefit, burden, history };
    const algorithm = entry?.config.algorithm ?? this.#fallback;
    const timeoutMs = entry?.config.algorithmTimeoutMs ?? ALGORITHM_TIMEOUT_MS;
    try {
      const result = await withTimeout(() => algorithm.compute(input), timeoutMs);
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
      const message = error instanceof Error ? error.message : String(error);
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

  /**
   * What the call routes by when {@link evaluate} itself failed (the history
   * store threw, say): the configured provider defaults and the built-in
   * algorithm, as when both providers and the algorithm fail, with the reason
   * in the decision so the record says why the value is the default.
   */
  failed(tenant: string, error: unknown): ValueEvaluation {
    const config = this.#tenants.get(tenant)?.config;
    const message = error instanceof Error ? error.message : String(error);
    const unscored = (provider: ProviderConfig | undefined): ProviderScore => ({
      score: provider?.default ?? 0,
      fallback: true,
      error: provider ? LOOKUP_FAILED : 'not_configured',
      ms: 0,
      cached: false,
    });
    const history: CustomerHistory = {
      windowDays: config?.historyWindowDays ?? 30,
      calls: 0,
      answeredCalls: 0,
      minutes: 0,
      repeatContacts: 0,
    };
    const benefit = unscored(config?.benefit);
    const burden = unscored(config?.burden);
    return {
      // The built-in formula is synchronous and total: it cannot fail here too.
      result: this.#fallback.compute({
        tenant,
        customerId: undefined,
        privateClaims: {},
        benefit,
        burden,
        history,
      }) as ValueResult,
      algorithm: {
        name: this.#fallback.name,
        version: this.#fallback.version,
        error: `${LOOKUP_FAILED}: ${message}`,
      },
      benefit,
      burden,
      history,
    };
  }
}

/** Runs `compute`, rejecting with {@link AlgorithmTimeoutError} if it has not settled in `ms`. */
async function withTimeout<T>(compute: () => T | Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AlgorithmTimeoutError(ms)), ms);
  });
  try {
    // A synchronous throw from compute() becomes a rejection here, like an async one.
    return await Promise.race([Promise.resolve().then(compute), expired]);
  } finally {
    clearTimeout(timer);
  }
}
