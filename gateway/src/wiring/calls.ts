import type { AgentDirectory } from '../agents/index.js';
import { CallManager, MessageHub, earlyAnswerPolicy, type ListingCalls } from '../calls/index.js';
import type { SharedState } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import type { GatedCallPath } from '../gated/call/index.js';
import type { Marketplace } from '../marketplace/index.js';
import type { MediaEngine } from '../media/index.js';
import type { SessionNumberPool } from '../numbers/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { queueSettings, type ValueService } from '../routing/index.js';
import { inviteHandler, overloadGuard, visitorPipeline, type OverloadGuard } from '../sbc/index.js';
import type { SipStack } from '../sip/index.js';
import type { CallStore, MessageStore, SessionStore } from '../storage/index.js';
import type { TokenService } from '../tokens/index.js';
import type { Trunks } from '../trunks/index.js';

export interface CallsDeps {
  readonly config: Config;
  readonly stack: SipStack;
  readonly media: MediaEngine;
  readonly agents: AgentDirectory;
  readonly numbers: SessionNumberPool;
  readonly calls: CallStore;
  readonly sessions: SessionStore;
  readonly messages: MessageStore;
  readonly shared: SharedState;
  readonly value: ValueService;
  readonly trunks: Trunks;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}

/** The call manager (every call in progress) and the message hub on its calls' data channels. */
export function startCalls(deps: CallsDeps): {
  readonly manager: CallManager;
  readonly hub: MessageHub;
} {
  const { config, metrics, shared } = deps;
  const manager = new CallManager({
    stack: deps.stack,
    media: deps.media,
    agents: deps.agents,
    numbers: deps.numbers,
    calls: deps.calls,
    sessions: deps.sessions,
    // With Redis, a tenant's concurrent-call limit holds across the cluster.
    ...(shared.redis
      ? {
          tenantCalls: {
            claims: shared.tenantCalls,
            max: (tenant: string) => config.tenants[tenant]?.maxConcurrentCalls ?? 0,
            ttlMs: config.shared.leaseSeconds * 1000,
          },
        }
      : {}),
    logger: deps.logger,
    domain: config.sip.domain,
    tenantName: (tenant) => config.tenants[tenant]?.name,
    queue: queueSettings(config.queues),
    mediaInactivityMs: config.media.inactivityTimeoutSeconds * 1000,
    value: deps.value,
    trunks: deps.trunks,
    // Issue 15 item 3: a browser answered while agents ring (calls/early-answer.ts).
    earlyAnswer: earlyAnswerPolicy(config.media.earlyAnswer, (queue) =>
      deps.agents.list().filter((a) => a.queues.includes(queue)),
    ),
    onOutcome: (record) => {
      metrics.calls.inc({ outcome: record.outcome ?? 'failed' });
      if (record.answeredAt !== null)
        metrics.callSetupSeconds.observe((record.answeredAt - record.createdAt) / 1000);
    },
    now: deps.now,
  });
  // A browser's answered call outlives its WebSocket this long (docs/scaling.md), its
  // own or, behind Kamailio, the one the proxy says closed.
  const graceMs = config.visitors.reconnectGraceSeconds * 1000;
  deps.stack.transport.on('flowClosed', (flow) => manager.flowClosed(flow, graceMs));
  deps.stack.transport.on('edgeConnectionClosed', (connection) =>
    manager.flowClosed(connection, graceMs),
  );
  const hub = new MessageHub({
    store: deps.messages,
    logger: deps.logger,
    now: deps.now,
    onMessage: (from, ok) => metrics.messages.inc({ from, result: ok ? 'stored' : 'refused' }),
  });
  manager.onCall((call) => hub.attach(call));
  manager.onCall((call) => {
    call.on('reconnect', (outcome, gapMs) => {
      metrics.visitorReconnects.inc({ outcome });
      if (gapMs !== undefined) metrics.visitorReconnectGapSeconds.observe(gapMs / 1000);
    });
    call.on('iceRestart', (ok) => metrics.iceRestarts.inc({ result: ok ? 'answered' : 'refused' }));
  });
  return { manager, hub };
}

/**
 * The INVITE path: transport → parse → overload → SBC middlewares → call.
 * Carriers' INVITEs go the trunks' way; web calls to marketplace listings
 * the listings' path; gated tenants' visitors the gated path's.
 */
export function acceptInvites(deps: {
  readonly config: Config;
  readonly stack: SipStack;
  readonly tokens: TokenService;
  readonly calls: CallManager;
  readonly trunks: Trunks;
  readonly gatedCalls: GatedCallPath;
  readonly listingCalls: ListingCalls;
  readonly marketplace: Marketplace;
  readonly draining: () => boolean;
  readonly metrics: Metrics;
  readonly logger: Logger;
}): OverloadGuard {
  const { config, calls, gatedCalls, listingCalls } = deps;
  const overload = overloadGuard(config.sip.overload, () => calls.settingUp);
  deps.stack.onInvite(
    inviteHandler({
      stack: deps.stack,
      pipeline: visitorPipeline({
        tokens: deps.tokens,
        realm: config.sip.domain,
        queues: config.queues,
        maxCalls: (tenant) => config.tenants[tenant]?.maxConcurrentCalls ?? 0,
        activeCalls: (tenant) => calls.activeCount(tenant),
        listingTenant: (listing) => deps.marketplace.listingTenant(listing),
      }),
      overload,
      draining: deps.draining,
      divert: (invite, tx) => deps.trunks.takeInvite(invite, tx),
      admit: (ctx, cancelled) =>
        listingCalls.handles(ctx)
          ? listingCalls.admit(ctx, cancelled)
          : gatedCalls.handles(ctx)
            ? gatedCalls.admit(ctx, cancelled)
            : calls.admit(ctx, cancelled),
      onRefused: (reason) => deps.metrics.invitesRefused.inc({ reason }),
      logger: deps.logger,
    }),
  );
  return overload;
}
