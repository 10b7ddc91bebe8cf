import { AgentAdmin, AgentDirectory } from '../agents/index.js';
import type { SharedState } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import { NumberRanges, SessionNumberPool } from '../numbers/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { agentPhoneRefusal } from '../config/cross-checks.js';
import { agentPolicy } from '../sbc/index.js';
import type { AgentStore, SessionStore } from '../storage/index.js';

/** Caller-ID numbers leased per web session, and the tenants' ranges a token's claim must fall in. */
export function callerNumberPool(deps: {
  readonly config: Config;
  readonly store: SessionStore;
  /** With Redis, the gateways agree on who holds which number. */
  readonly shared: SharedState;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}): Promise<SessionNumberPool> {
  const { config, metrics } = deps;
  const ranges = new Map(
    Object.entries(config.tenants).map(([id, t]) => [id, new NumberRanges(t.callerNumbers)]),
  );
  return SessionNumberPool.load({
    config: config.numbers,
    store: deps.store,
    logger: deps.logger,
    now: deps.now,
    onExhausted: () => metrics.numbersExhausted.inc(),
    claimRanges: (tenant) => ranges.get(tenant),
    shared: deps.shared.numberLeases,
    onClaim: (outcome) =>
      metrics.callerNumberClaims.inc(
        outcome.accepted
          ? { result: 'accepted', reason: '' }
          : { result: 'refused', reason: outcome.reason },
      ),
  });
}

/**
 * The agents: the config file's, the API-made ones from storage, and (with
 * Redis) the registrations made through the cluster's other gateways.
 */
export async function agentDirectory(deps: {
  readonly config: Config;
  readonly store: AgentStore;
  readonly shared: SharedState;
  readonly logger: Logger;
  readonly now: () => number;
}): Promise<{ readonly agents: AgentDirectory; readonly admin: AgentAdmin }> {
  const { config, logger } = deps;
  const agents = new AgentDirectory(config.agents, deps.now, deps.shared.agentLocks);
  const admin = new AgentAdmin({
    directory: agents,
    store: deps.store,
    realm: config.sip.domain,
    configured: new Set(config.agents.map((a) => a.id)),
    tenantExists: (tenant) => config.tenants[tenant] !== undefined,
    queueTenant: (queue) => config.queues[queue]?.tenant,
    voices: config.speech.tts.voices,
    policy: agentPolicy(config.tenants),
    phoneRefusal: agentPhoneRefusal(config.trunks),
    logger,
    now: deps.now,
  });
  const stored = await admin.load();
  logger.info({ configured: config.agents.length, stored }, 'agents loaded');
  await deps.shared.syncAgents(agents);
  return { agents, admin };
}
