import type { Config } from '../../config/index.js';
import type { Logger } from '../../observability/index.js';
import { weightedAlgorithm } from './builtin.js';
import { loadValueModule } from './module-loader.js';
import { ValueService, type HistoryLookup, type TenantValueConfig } from './value-service.js';

/**
 * The value service of the configured tenants (`tenants.<id>.routing`): each
 * one's providers and algorithm, the built-in weighted formula or the tenant's
 * ES module (loaded now, so a broken module stops the start, not a call).
 */
export async function valueServiceFromConfig(deps: {
  readonly tenants: Config['tenants'];
  readonly history: HistoryLookup;
  readonly logger: Logger;
  readonly now: () => number;
}): Promise<ValueService> {
  const tenants: Record<string, TenantValueConfig> = {};
  for (const [id, tenant] of Object.entries(deps.tenants)) {
    const routing = tenant.routing;
    if (!routing) continue;
    const algorithm =
      routing.algorithm.kind === 'module'
        ? await loadValueModule(routing.algorithm.path, '/')
        : weightedAlgorithm({
            version: routing.algorithm.version,
            weights: routing.algorithm.weights,
            tiers: routing.algorithm.tiers.map((t) => ({
              name: t.name,
              minValue: t.minValue ?? Number.NEGATIVE_INFINITY,
            })),
          });
    tenants[id] = {
      benefit: routing.benefit,
      burden: routing.burden,
      algorithm,
      historyWindowDays: routing.historyWindowDays,
      algorithmTimeoutMs: routing.algorithmTimeoutMs,
    };
  }
  return new ValueService({
    tenants,
    history: deps.history,
    logger: deps.logger,
    now: deps.now,
  });
}
