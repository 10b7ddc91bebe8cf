import type { Router } from 'express';
import type { AgentDirectory } from '../agents/index.js';
import { createCallbacksModule, type CallbacksModule } from '../callbacks/index.js';
import { ListingCalls, Telephony, visitorFallbacks, type CallManager } from '../calls/index.js';
import type { SharedState } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import type { FlowEventStore } from '../flows/index.js';
import { GatedCallPath } from '../gated/call/index.js';
import type { GatedModule } from '../gated/index.js';
import { trackedCalls, type Marketplace } from '../marketplace/index.js';
import type { MediaEngine } from '../media/index.js';
import type { MediaApps } from '../media/apps/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { MemoryQueueState } from '../queues/index.js';
import { queueSettings, type ValueService } from '../routing/index.js';
import type { SipStack } from '../sip/index.js';
import type { Speech } from '../speech/index.js';
import type { SqliteDatabase } from '../storage/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import type { TokenService } from '../tokens/index.js';
import type { Trunks } from '../trunks/index.js';

export interface ApplicationsDeps {
  readonly config: Config;
  readonly db: SqliteDatabase;
  /** With `storage.kind: postgres`: the shared database (the callbacks' records). */
  readonly pool: PgPool | undefined;
  /** The flows' events (`Stores.flowEvents`): SQLite, or PostgreSQL shared by the cluster. */
  readonly flowEvents: FlowEventStore;
  readonly stack: SipStack;
  readonly trunks: Trunks;
  readonly agents: AgentDirectory;
  readonly calls: CallManager;
  readonly media: MediaEngine;
  readonly mediaApps: MediaApps;
  readonly speech: Speech;
  readonly gated: GatedModule;
  readonly marketplace: Marketplace;
  readonly value: ValueService;
  readonly tokens: TokenService;
  /** The cluster's shared state: with Redis, queue membership lives there. */
  readonly shared: SharedState;
  /** Where the callbacks' API is mounted (`/v1/callbacks`). */
  readonly callbacksMount: Router;
  /** Crash tests: inside each callback fee's transaction, before the commit. */
  readonly callbackFeeBeforeCommit?: ((callbackId: string) => void) | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * The applications on the call core: flows on real calls (trunk DIDs, the
 * visitors no agent took), marketplace calls (tracking numbers, web calls to
 * listings), callbacks, and gated tenants' visitors.
 */
export async function startApplications(deps: ApplicationsDeps): Promise<{
  readonly telephony: Telephony;
  readonly callbacks: CallbacksModule;
  readonly gatedCalls: GatedCallPath;
  readonly listingCalls: ListingCalls;
}> {
  const { config, logger, now } = deps;
  const tracked = trackedCalls({ hooks: deps.marketplace.hooks, now, logger });
  // A cluster (Redis) shares who waits in each queue; one gateway keeps it in memory.
  const sharedQueues = await deps.shared.shareQueues({
    queues: Object.keys(config.queues),
    maxCalls: (agentId) => deps.agents.get(agentId)?.maxCalls ?? 1,
  });
  const telephony = await Telephony.create({
    config,
    events: deps.flowEvents,
    stack: deps.stack,
    agents: deps.agents,
    trunks: deps.trunks,
    calls: deps.calls,
    apps: deps.mediaApps,
    speech: deps.speech,
    metrics: deps.metrics,
    logger,
    now,
    tracked,
    queueState: sharedQueues?.state ?? new MemoryQueueState(),
    queueChanges: sharedQueues?.changes,
  });
  // A visitor's web call to a listing (`sip:listing.<id>@…`) runs a dial of its destination.
  const listingCalls = new ListingCalls({
    stack: deps.stack,
    calls: deps.calls,
    tracked,
    run: (call, flow) => telephony.runOn(call, flow).done,
    logger,
    now,
  });
  // A visitor's call no agent takes (or to a closed queue) runs its queue's flows, as a DID's enqueue would.
  visitorFallbacks({
    calls: deps.calls,
    queues: telephony.queues,
    run: (call, flow) => telephony.runOn(call, flow).done,
    logger,
  });
  const callbacks = createCallbacksModule({
    config,
    db: deps.db,
    pool: deps.pool,
    instanceId: config.shared.instanceId ?? config.gatewayId,
    stack: deps.stack,
    trunks: deps.trunks,
    media: deps.media,
    mediaApps: deps.mediaApps,
    tts: deps.speech.tts,
    agents: deps.agents,
    queue: queueSettings(config.queues),
    value: deps.value,
    marketplace: deps.marketplace,
    tokens: deps.tokens,
    apiKeys: config.api.keys,
    feeBeforeCommit: deps.callbackFeeBeforeCommit,
    registry: deps.metrics.registry,
    logger,
    now,
  });
  deps.callbacksMount.use(callbacks.router);
  await callbacks.start();
  // Visitors of gated tenants: the Gate, the resident's devices, the meter (docs/gated.md).
  const gatedCalls = new GatedCallPath({
    gate: deps.gated.gate,
    meter: deps.gated.meter,
    calls: deps.calls,
    stack: deps.stack,
    domain: config.sip.domain,
    mediaApps: deps.mediaApps,
    tts: deps.speech.tts,
    settings: (tenant) => config.tenants[tenant]?.gated,
    logger,
  });
  // Phone callers on a gated tenant's DID: the same path, answered and authorised by DTMF first.
  telephony.setTrunkApp(gatedCalls);
  for (const warning of gatedDidsWithoutGate(config)) logger.warn(warning);
  return { telephony, callbacks, gatedCalls, listingCalls };
}

/**
 * A gated tenant's DID reaches a resident only through its flow's `gate` verb
 * (a flow without one never does). Said at start for flows whose verbs are in
 * the config; a webhook's or module's verbs are known only at call time.
 */
export function gatedDidsWithoutGate(config: Config): string[] {
  const warnings: string[] = [];
  for (const [id, trunk] of Object.entries(config.trunks)) {
    trunk.inbound.numbers.forEach((n, i) => {
      if (!config.tenants[n.tenant]?.gated) return;
      const flow = config.flows[n.flow];
      if (flow === undefined || 'webhook' in flow || 'module' in flow) return;
      if (JSON.stringify(flow).includes('"verb":"gate"')) return;
      warnings.push(
        `trunks.${id}.inbound.numbers.${i}: tenant "${n.tenant}" is gated, but flow "${n.flow}" has no gate verb: its callers never reach a resident`,
      );
    });
  }
  return warnings;
}
