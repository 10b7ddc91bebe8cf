/** The customer's value before the agents ring (value routing: `tenants.<t>.routing`, `routing/`). */
import type { PrivateClaims } from '@parley/shared/tokens';
import type { Logger } from '../observability/index.js';
import type { ValueEvaluation, ValueService } from '../routing/index.js';

/**
 * The customer's value, from the tenant's providers and algorithm (undefined
 * without a value service). If the lookup itself fails, the call is routed by
 * the default value, and the decision stored with it says why.
 */
export async function evaluateValue(
  service: ValueService | undefined,
  tenant: string,
  claims: PrivateClaims,
  log: Logger,
): Promise<ValueEvaluation | undefined> {
  if (!service?.has(tenant)) return undefined;
  try {
    return await service.evaluate(tenant, claims);
  } catch (error) {
    log.warn({ err: error }, 'value evaluation failed; routing by the default value');
    return service.failed(tenant, error);
  }
}
