import type { InviteMiddleware } from '../invite-pipeline.js';

/** A tenant's concurrent-call cap. */
export function tenantLimit(
  active: (tenant: string) => number,
  max: (tenant: string) => number,
): InviteMiddleware {
  return (ctx) => {
    const tenant = ctx.token?.claims.iss;
    if (tenant === undefined) return undefined;
    return active(tenant) >= max(tenant)
      ? { code: 'tenant_call_limit', detail: tenant, headers: [['Retry-After', '30']] }
      : undefined;
  };
}
