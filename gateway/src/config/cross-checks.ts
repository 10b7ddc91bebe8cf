/**
 * The configuration's cross-checks (what one key says about another, which
 * the schema alone cannot see), each returning its problems for `loadConfig`
 * to report together: clustered storage, caller-number blocks, trunks, the
 * marketplace's number pools. A module's own checks live beside its schema
 * (`callbacks.ts`).
 */
import { parseIpRule } from '@parley/shared/screening';
import { NumberRanges, expandRanges, rangeProblem } from '../numbers/index.js';
import { outboundRules } from '../trunks/outbound-rules.js';
import type { ParsedConfig } from './schema.js';

type TenantEntry = ParsedConfig['tenants'][string];

/** What the number and trunk checks read of the configuration. */
export interface Resolved {
  readonly tenants: Readonly<Record<string, Pick<TenantEntry, 'callerNumbers'>>>;
  readonly trunks: ParsedConfig['trunks'];
  readonly numbers: ParsedConfig['numbers'];
}

/** PostgreSQL chosen with its settings; passwords that should come from the environment did. */
export function clusterProblems(config: Pick<ParsedConfig, 'storage' | 'shared'>): string[] {
  const problems: string[] = [];
  const { storage, shared } = config;
  if (storage.kind === 'postgres' && storage.postgres === undefined)
    problems.push('storage.postgres: give url or database when storage.kind is "postgres"');
  const pg = storage.postgres;
  if (pg?.passwordEnv !== undefined && pg.password === undefined)
    problems.push(`storage.postgres.passwordEnv: ${pg.passwordEnv} is not set`);
  const redis = shared.redis;
  if (redis?.passwordEnv !== undefined && new URL(redis.url).password === '')
    problems.push(`shared.redis.passwordEnv: ${redis.passwordEnv} is not set`);
  // Every gateway of a cluster shares gatewayId (the tokens' audience), the default id: each
  // would take the others' calls, recordings and queue callers for its own.
  if (redis !== undefined && shared.instanceId === undefined)
    problems.push(
      'shared.instanceId: give each gateway of a cluster (shared.redis) its own id; the default, gatewayId, is the same on every gateway',
    );
  // Rows in the shared database are owned per gateway (call records, gated meters): with the
  // default id a restarting gateway would close another's live calls as its own interrupted ones.
  else if (storage.kind === 'postgres' && shared.instanceId === undefined)
    problems.push(
      'shared.instanceId: give each gateway on a shared database (storage.kind "postgres") its own id; the default, gatewayId, is the same on every gateway',
    );
  if (shared.leaseSeconds < shared.heartbeatSeconds * 2)
    problems.push('shared.leaseSeconds: must be at least twice heartbeatSeconds');
  return problems;
}

/** Tenants' caller-number blocks: well formed, and never the pool's numbers (S6). */
export function numberProblems(config: Resolved): string[] {
  const problems: string[] = [];
  let pool: NumberRanges | undefined;
  try {
    pool = new NumberRanges(config.numbers.ranges);
  } catch {
    pool = undefined; // reported above
  }
  for (const [id, t] of Object.entries(config.tenants)) {
    const bad = t.callerNumbers.map(rangeProblem).filter((p) => p !== undefined);
    for (const p of bad) problems.push(`tenants.${id}.callerNumbers: ${p}`);
    if (bad.length === 0 && pool && new NumberRanges(t.callerNumbers).overlaps(pool))
      problems.push(
        `tenants.${id}.callerNumbers: overlaps numbers.ranges (the pool's own numbers)`,
      );
  }
  return problems;
}

export function trunkProblems(config: Resolved): string[] {
  const problems: string[] = [];
  for (const [id, t] of Object.entries(config.trunks)) {
    const at = `trunks.${id}`;
    if (t.auth?.passwordEnv !== undefined && !t.auth.password)
      problems.push(`${at}.auth.passwordEnv: ${t.auth.passwordEnv} is not set`);
    for (const entry of t.inbound.allow) {
      try {
        parseIpRule(entry);
      } catch (error) {
        problems.push(`${at}.inbound.allow: ${(error as Error).message}`);
      }
    }
    t.inbound.numbers.forEach((n, i) => {
      if (!config.tenants[n.tenant])
        problems.push(`${at}.inbound.numbers.${i}.tenant: no tenant "${n.tenant}"`);
      const problem =
        n.from !== undefined && n.to !== undefined
          ? rangeProblem({ from: n.from, to: n.to })
          : undefined;
      if (problem) problems.push(`${at}.inbound.numbers.${i}: ${problem}`);
    });
    for (const tenant of t.outbound.tenants) {
      if (!config.tenants[tenant]) problems.push(`${at}.outbound.tenants: no tenant "${tenant}"`);
    }
  }
  return problems;
}

/**
 * Agents reached by telephone number (`agents[].phone`): the trunk they are
 * called through exists, lets their tenant call out and may call that number
 * (`trunks.<id>.outbound`), else the dialler would refuse every call to them.
 */
export function agentPhoneProblems(config: Pick<ParsedConfig, 'agents' | 'trunks'>): string[] {
  const problems: string[] = [];
  const refusal = agentPhoneRefusal(config.trunks);
  config.agents.forEach((agent, i) => {
    if (agent.phone === undefined) return;
    const refused = refusal(agent.tenant, agent.trunk, agent.phone);
    if (refused) problems.push(`agents.${i}.${refused.field}: ${refused.detail}`);
  });
  return problems;
}

/**
 * Why a phone agent of `tenant` could not be called at `phone` through `trunk`
 * (default: the tenant's first outbound trunk), or undefined: the start-up
 * check of the config's agents and the API's check of the agents it makes.
 */
export function agentPhoneRefusal(
  trunks: Parameters<typeof outboundRules>[0],
): (
  tenant: string,
  trunk: string | undefined,
  phone: string,
) => { readonly field: 'trunk' | 'phone'; readonly detail: string } | undefined {
  const refusal = outboundRules(trunks);
  return (tenant, trunk, phone) => {
    if (trunk !== undefined && !trunks[trunk])
      return { field: 'trunk', detail: `no trunk "${trunk}"` };
    const refused = refusal(tenant, trunk, phone);
    return refused ? { field: 'phone', detail: refused.detail } : undefined;
  };
}

/** The marketplace's cross-checks: known tenants, real time zone, pools that expand and do not overlap. */
export function marketplaceProblems(
  m: ParsedConfig['marketplace'],
  tenantExists: (tenant: string) => boolean,
): string[] {
  const problems: string[] = [];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: m.timeZone });
  } catch {
    problems.push(`marketplace.timeZone: no time zone "${m.timeZone}"`);
  }
  const owner = new Map<string, string>();
  for (const [tenant, t] of Object.entries(m.tenants)) {
    if (!tenantExists(tenant))
      problems.push(`marketplace.tenants.${tenant}: no tenant "${tenant}"`);
    let numbers: string[] = [];
    try {
      numbers = [...expandRanges(t.trackingNumbers.ranges), ...t.trackingNumbers.numbers];
    } catch (error) {
      problems.push(
        `marketplace.tenants.${tenant}.trackingNumbers.ranges: ${(error as Error).message}`,
      );
    }
    for (const n of numbers) {
      const other = owner.get(n);
      if (other !== undefined && other !== tenant)
        problems.push(
          `marketplace.tenants.${tenant}.trackingNumbers: ${n} is also in the pool of ${other}`,
        );
      owner.set(n, tenant);
    }
  }
  return problems;
}
