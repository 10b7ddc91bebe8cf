import type { AgentDirectory } from '../agents/index.js';
import type { Config } from '../config/index.js';
import { Marketplace, type PgCharges } from '../marketplace/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { SqliteDatabase } from '../storage/index.js';
import { inboundNumberLookup, outboundRules } from '../trunks/index.js';

/**
 * The marketplace on the gateway's database (and the shared ledger with
 * PostgreSQL), told what the rest of the config holds: tenants, queues,
 * agents, the trunks' numbers and outbound rules. Started: its index loaded,
 * a crash's due charges made, its timers running.
 */
export async function startMarketplace(deps: {
  readonly config: Config;
  readonly db: SqliteDatabase;
  readonly agents: AgentDirectory;
  readonly shared: PgCharges | undefined;
  readonly beforeCommit: ((callId: string) => void) | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}): Promise<Marketplace> {
  const { config, agents } = deps;
  const marketplace = new Marketplace({
    db: deps.db,
    config: config.marketplace,
    environment: {
      tenantExists: (tenant) => config.tenants[tenant] !== undefined,
      queueTenant: (queue) => config.queues[queue]?.tenant,
      agentTenant: (agent) => agents.get(agent)?.tenant,
      inboundNumber: inboundNumberLookup(config.trunks),
      outboundRefusal: outboundRules(config.trunks),
    },
    registry: deps.metrics.registry,
    logger: deps.logger,
    now: deps.now,
    beforeCommit: deps.beforeCommit,
    shared: deps.shared,
    instanceId: config.shared.instanceId ?? config.gatewayId,
  });
  await marketplace.start();
  return marketplace;
}
